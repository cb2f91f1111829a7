// Preloaded into a process (`node --import ./bench/alloc-probe.mjs ...`) by bench/alloc-profile.ts:
// on SIGUSR2 it starts V8's sampling heap profiler counting every allocation, including the
// objects young- and old-generation GCs have already collected (so the profile shows the
// allocation rate per site, not what is live); on the next SIGUSR2 it writes the profile to
// $ALLOC_PROFILE_FILE and prints "alloc profile written".
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";

const session = new Session();
session.connect();
const post = (method, params) => new Promise((done, fail) => session.post(method, params, (error, result) => (error ? fail(error) : done(result))));
let sampling = false;
process.on("SIGUSR2", () => {
  if (!sampling) {
    sampling = true;
    void post("HeapProfiler.startSampling", { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true }).then(() => console.log("alloc sampling started"));
    return;
  }
  sampling = false;
  void post("HeapProfiler.stopSampling").then(({ profile }) => {
    writeFileSync(process.env.ALLOC_PROFILE_FILE ?? "alloc.heapprofile", JSON.stringify(profile));
    console.log("alloc profile written");
  });
});
