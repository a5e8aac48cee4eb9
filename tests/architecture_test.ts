/**
 * The layering of `src/`, checked on the real import statements: no file
 * imports a file that imports it back, no folder imports a folder that
 * imports it back, the domain imports nothing of the project, and nothing in
 * `src/` reaches up into an entry point (`main.ts`, `worker/`) or the tests.
 *
 * @module
 */
import assert from "node:assert/strict";

const root = new URL("..", import.meta.url);
const SPECIFIER =
  /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?["'](\.{1,2}\/[^"']+)["']|import\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g;

/** Every `.ts` file under `dir` (relative to the project root), tests included. */
async function sources(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(new URL(dir, root))) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) found.push(...await sources(path));
    else if (entry.name.endsWith(".ts")) found.push(path);
  }
  return found;
}

/** The project files a file imports, relative to the project root. */
async function importsOf(file: string): Promise<string[]> {
  const text = await Deno.readTextFile(new URL(file, root));
  const targets = new Set<string>();
  for (const match of text.matchAll(SPECIFIER)) {
    const specifier = match[1] ?? match[2];
    const url = new URL(specifier, new URL(file, root));
    targets.add(url.pathname.slice(root.pathname.length));
  }
  return [...targets];
}

/** `src/api/app.ts` → `api`; a file directly in `src/` is its own unit. */
function folderOf(file: string): string {
  const parts = file.split("/");
  return parts[0] === "src" ? parts[1] : parts[0];
}

/** The strongly connected components with more than one node (the cycles), by Tarjan. */
function cycles(graph: Map<string, Set<string>>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    indices.set(node, index);
    low.set(node, index++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!indices.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, indices.get(next)!));
      }
    }
    if (low.get(node) === indices.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!indices.has(node)) visit(node);
  return found;
}

const files = await sources("src");
const imports = new Map<string, string[]>();
for (const file of files) imports.set(file, await importsOf(file));

Deno.test("the import scan sees the imports (a sanity check of this test itself)", () => {
  assert.ok(files.length > 50, `found only ${files.length} files under src/`);
  assert.ok(imports.get("src/server.ts")?.includes("src/api/app.ts"));
  assert.ok(imports.get("src/tracker/tracker.ts")?.includes("src/domain/task.ts"));
  assert.ok(imports.get("src/jobs/job_runner.ts")?.includes("src/jobs/run_job.ts"));
  assert.deepEqual(
    cycles(new Map([["a", new Set(["b"])], ["b", new Set(["c"])], ["c", new Set(["a"])]])),
    [["a", "b", "c"]],
    "a cycle is found",
  );
});

Deno.test("no file under src/ imports a file that imports it back", () => {
  const graph = new Map([...imports].map(([file, targets]) => [file, new Set(targets)]));
  assert.deepEqual(cycles(graph), []);
});

Deno.test("no folder under src/ imports a folder that imports it back", () => {
  const graph = new Map<string, Set<string>>();
  const why = new Map<string, string>();
  for (const [file, targets] of imports) {
    const from = folderOf(file);
    for (const target of targets) {
      const to = folderOf(target);
      if (to === from) continue;
      if (!graph.has(from)) graph.set(from, new Set());
      graph.get(from)!.add(to);
      why.set(`${from}->${to}`, `${file} imports ${target}`);
    }
  }
  const found = cycles(graph);
  const evidence = found.flatMap((component) =>
    component.flatMap((a) =>
      component.filter((b) => why.has(`${a}->${b}`)).map((b) => why.get(`${a}->${b}`)!)
    )
  );
  assert.deepEqual(found, [], `folders import each other:\n${evidence.join("\n")}`);
});

Deno.test("the domain imports nothing of the project but itself", () => {
  for (const [file, targets] of imports) {
    if (!file.startsWith("src/domain/") || file.endsWith("_test.ts")) continue;
    for (const target of targets) {
      assert.ok(target.startsWith("src/domain/"), `${file} imports ${target}`);
    }
  }
});

Deno.test("the HTTP layer does not reach into training; src/ never imports an entry point", () => {
  for (const [file, targets] of imports) {
    for (const target of targets) {
      if (file.startsWith("src/api/")) {
        assert.ok(!target.startsWith("src/training/"), `${file} imports ${target}`);
      }
      if (!file.endsWith("_test.ts")) {
        assert.ok(
          target.startsWith("src/"),
          `${file} imports ${target}, outside src/ (an entry point, a test or a benchmark)`,
        );
      }
    }
  }
});
