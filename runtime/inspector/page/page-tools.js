// What every script of the inspector page shares: the admin token of the page's own URL (outside dev mode),
// element lookup and creation. Values from the server or from a loaded file are set as text, never as HTML.

const token = new URLSearchParams(location.search).get("token");

/** `path` with the page's `?token=` added, for requests a browser cannot add a header to (links, sockets). */
export const withToken = (path) =>
  token === null ? path : `${path}${path.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}`;

export const $ = (id) => document.getElementById(id);

export function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  for (const child of children) node.append(child instanceof Node ? child : String(child));
  return node;
}

/** The JSON body of an inspector API answer, or an Error with the envelope's message. */
export async function answerOf(response) {
  const body = await response.json();
  if (!response.ok) throw new Error(body.error?.message ?? response.statusText);
  return body.data;
}
