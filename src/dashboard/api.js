// Fetch helpers for the dashboard, and error display in the API's error shape.

/** An answer that was not 2xx: the API's `{error: {code, message, details}}`. */
export class ApiProblem extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `The service answered ${status}.`);
    this.status = status;
    this.code = body?.error?.code ?? "http_" + status;
    this.details = body?.error?.details ?? null;
  }
}

const KEY = "wattcast.credential";

/** The API key or JWT the person gave (kept for this browser tab only); null for none. */
export function credential() {
  return sessionStorage.getItem(KEY);
}

/** Keeps (or, with null, forgets) the credential sent with every call. */
export function setCredential(value) {
  if (value) sessionStorage.setItem(KEY, value);
  else sessionStorage.removeItem(KEY);
}

/** Calls the API; resolves to the JSON answer, rejects with an ApiProblem. A 401 asks for a key. */
export async function api(path, options = {}) {
  let response;
  const headers = { Accept: "application/json", ...options.headers };
  if (credential()) headers.Authorization = `Bearer ${credential()}`;
  try {
    response = await fetch(path, { ...options, headers });
  } catch {
    throw new ApiProblem(0, {
      error: { code: "offline", message: "The service cannot be reached." },
    });
  }
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (response.status === 401) dispatchEvent(new CustomEvent("wattcast:unauthorized"));
  if (!response.ok) throw new ApiProblem(response.status, body);
  return body;
}

/** Sends JSON with a method. */
export function send(method, path, value) {
  return api(path, {
    method,
    headers: { Accept: "application/json", "Content-Type": "application/json" },
    body: value === undefined ? undefined : JSON.stringify(value),
  });
}

/** Creates an element: `el("p", {class: "x"}, "text", child)`. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

/** Shows an error in `target`: its message, and each named field or line of its details. */
export function showError(target, error) {
  const items = [];
  const details = error.details ?? {};
  for (const field of details.fields ?? []) items.push(`${field.field}: ${field.message}`);
  for (const problem of details.problems ?? []) {
    items.push(`${details.counted_by ?? "line"} ${problem.line}: ${problem.reason}`);
  }
  const more = details.problem_count > (details.problems ?? []).length
    ? el("p", {}, `…and ${details.problem_count - details.problems.length} more.`)
    : null;
  target.replaceChildren(
    el(
      "div",
      { class: "error" },
      el("p", {}, error.message),
      items.length ? el("ul", {}, ...items.slice(0, 20).map((i) => el("li", {}, i))) : null,
      more,
    ),
  );
}

/** Shows a success message in `target`. */
export function showSuccess(target, text) {
  target.replaceChildren(el("p", { class: "success" }, text));
}
