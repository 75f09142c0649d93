// cfcookies.d.ts declares what cfcookies.js exports, and package.json
// publishes both. A simple parse: it catches a forgotten declaration, not a
// wrong type (tsc checks those; see web/README.md).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import * as cfcookies from "../cfcookies.js";

const read = (name) => readFile(new URL(`../${name}`, import.meta.url), "utf8");

// declared returns the body of `export declare class name { ... }`, or of
// the exported function or const, or undefined.
function declared(dts, name) {
  const m = new RegExp(`^export declare (class|function|const) ${name}\\b`, "m").exec(dts);
  if (!m) return undefined;
  if (m[1] !== "class") return m[0];
  const start = dts.indexOf("{", m.index);
  let depth = 0;
  for (let i = start; i < dts.length; i++) {
    if (dts[i] === "{") depth++;
    if (dts[i] === "}" && --depth === 0) return dts.slice(start, i + 1);
  }
  return undefined;
}

test("cfcookies.d.ts declares every export of cfcookies.js, and nothing more", async () => {
  const dts = await read("cfcookies.d.ts");
  const exported = Object.keys(cfcookies).sort();
  assert.deepEqual(exported, ["MediaCookies", "ProblemError"]);
  for (const name of exported) assert.ok(declared(dts, name), `${name} is not declared`);
  const values = [...dts.matchAll(/^export declare (?:class|function|const) (\w+)/gm)].map((m) => m[1]).sort();
  assert.deepEqual(values, exported, "a declared value cfcookies.js does not export");
});

test("cfcookies.d.ts declares every public member of the exported classes", async () => {
  const dts = await read("cfcookies.d.ts");
  for (const name of ["MediaCookies", "ProblemError"]) {
    const body = declared(dts, name);
    const cls = cfcookies[name];
    const members = Object.getOwnPropertyNames(cls.prototype).filter((m) => m !== "constructor");
    const instance = name === "ProblemError" ? new cls(400, {}) : new cls({ autoRefresh: false });
    members.push(...Object.keys(instance).filter((m) => m !== "name" && m !== "stack"));
    assert.ok(members.length > 0);
    for (const m of members) {
      assert.match(body, new RegExp(`^\\s+(readonly\\s+)?${m}\\b`, "m"), `${name}.${m} is not declared`);
    }
  }
});

test("package.json exports the module and its types, and publishes both", async () => {
  const pkg = JSON.parse(await read("package.json"));
  assert.equal(pkg.type, "module");
  assert.deepEqual(pkg.exports, { ".": { types: "./cfcookies.d.ts", default: "./cfcookies.js" } });
  for (const f of ["cfcookies.js", "cfcookies.d.ts"]) assert.ok(pkg.files.includes(f), f);
  assert.equal(pkg.license, "Apache-2.0");
  assert.deepEqual(pkg.dependencies ?? {}, {});
  assert.equal(pkg.scripts.test, "node --test");
  const lock = JSON.parse(await read("package-lock.json"));
  assert.equal(lock.version, pkg.version, "package-lock.json is up to date");
  assert.doesNotMatch(JSON.stringify(lock), /"resolved"|https?:/, "no registry address in the lockfile");
});
