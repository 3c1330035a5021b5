(function(){if(!("IntersectionObserver"in window)||!window.fetch)return;
var io=new IntersectionObserver(function(es){es.forEach(function(e){if(!e.isIntersecting)return;io.unobserve(e.target);var el=e.target;
if(el.dataset.island==="live"){fetch(el.dataset.src,{headers:{Accept:"application/json"}}).then(function(r){return r.ok?r.json():null}).then(function(d){if(d&&d.text){el.textContent=d.text;el.className="live"+(d.open?" open":"")}}).catch(function(){})}
if(el.dataset.island==="notify"){el.addEventListener("submit",function(ev){ev.preventDefault();fetch(el.action,{method:"POST",body:new URLSearchParams(new FormData(el)),headers:{Accept:"application/json"}}).then(function(r){return r.json()}).then(function(d){el.textContent=d.message||"Thanks!"}).catch(function(){el.submit()})})}})});
document.querySelectorAll("[data-island]").forEach(function(el){io.observe(el)})})();
