// parse.mjs reads iCalendar files with ical.js, an independent parser, and
// prints what it understood as JSON: for each file, its events with UTC
// start and end instants, so that the Go test can check the round trip.
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const out = [];
for (const file of process.argv.slice(2)) {
  const text = readFileSync(file, "utf8");
  const cal = new ICAL.Component(ICAL.parse(text));
  const zones = [];
  for (const vtz of cal.getAllSubcomponents("vtimezone")) {
    const tz = new ICAL.Timezone(vtz);
    ICAL.TimezoneService.register(tz, tz.tzid);
    zones.push(tz.tzid);
  }
  const events = cal.getAllSubcomponents("vevent").map((ve) => {
    const ev = new ICAL.Event(ve);
    const tzid = ve.getFirstProperty("dtstart").getParameter("tzid");
    if (tzid && !zones.includes(tzid)) {
      throw new Error(`DTSTART names TZID ${tzid} without a VTIMEZONE`);
    }
    return {
      uid: ev.uid,
      sequence: ev.sequence,
      status: ve.getFirstPropertyValue("status"),
      summary: ev.summary,
      description: ev.description,
      location: ev.location,
      tzid: tzid || "",
      start: ev.startDate.toJSDate().toISOString(),
      end: ev.endDate.toJSDate().toISOString(),
      dtstamp: ve.getFirstPropertyValue("dtstamp").toJSDate().toISOString(),
    };
  });
  out.push({ file, zones, events });
}
process.stdout.write(JSON.stringify(out));
