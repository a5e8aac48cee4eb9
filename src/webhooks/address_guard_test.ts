import assert from "node:assert/strict";
import { isPrivateAddress, targetProblem } from "./address_guard.ts";

Deno.test("address guard: private, loopback and link-local ranges are refused, in IPv4 and IPv6", () => {
  for (
    const address of [
      "127.0.0.1",
      "127.255.0.9",
      "10.1.2.3",
      "172.16.0.1",
      "172.31.255.255",
      "192.168.1.1",
      "169.254.169.254",
      "0.0.0.0",
      "100.64.0.1",
      "::1",
      "::",
      "fc00::1",
      "fd12:3456::1",
      "fe80::1",
      "::ffff:127.0.0.1",
      "::ffff:7f00:1",
      "::ffff:10.0.0.1",
      "64:ff9b::a00:1",
    ]
  ) assert.equal(isPrivateAddress(address), true, address);
});

Deno.test("address guard: public addresses pass", () => {
  for (
    const address of [
      "8.8.8.8",
      "172.32.0.1",
      "172.15.255.255",
      "192.169.0.1",
      "1.1.1.1",
      "2606:4700:4700::1111",
      "::ffff:8.8.8.8",
      "fbff::1",
    ]
  ) assert.equal(isPrivateAddress(address), false, address);
});

Deno.test("address guard: a host name is judged by every address it resolves to", async () => {
  const resolveTo = (addresses: string[]) => () => Promise.resolve(addresses);
  assert.equal(await targetProblem("https://hooks.example/x", resolveTo(["8.8.8.8"])), null);
  const problem = (await targetProblem(
    "https://hooks.example/x",
    resolveTo(["8.8.8.8", "10.0.0.5"]),
  ))!;
  assert.match(problem, /hooks\.example resolves to a loopback.*WEBHOOK_ALLOW_PRIVATE/);
  // A caller may not know the network the service runs in: the answer does not map it for them.
  assert.doesNotMatch(problem, /10\.0\.0\.5/);
  assert.match((await targetProblem("http://[::1]:8080/"))!, /::1/);
  assert.match(
    (await targetProblem("http://localhost:8080/"))!,
    /localhost resolves to a loopback/,
  );
  assert.match(
    (await targetProblem("https://nowhere.invalid/", () => Promise.reject(new Error("NXDOMAIN"))))!,
    /does not resolve/,
  );
});
