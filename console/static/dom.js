// DOM building without markup: every string from the API goes in as text (textContent or a Text
// node), never parsed as HTML, so model output can never become elements or scripts.

const SVG_NS = "http://www.w3.org/2000/svg";

function build(node, props, children) {
  for (const [name, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "text") node.textContent = value;
    else if (name === "class") node.setAttribute("class", value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** h("td", {class: "n"}, "text", otherNode) */
export const h = (tag, props, ...children) => build(document.createElement(tag), props, children);
export const svg = (tag, props, ...children) => build(document.createElementNS(SVG_NS, tag), props, children);
export const $ = (id) => document.getElementById(id);

export function clear(node) {
  node.replaceChildren();
  return node;
}

/** A URL from an API answer that may go into src: only this origin's paths, data: images, blob:. */
export function safeSrc(url, dataPrefix) {
  if (typeof url !== "string") return null;
  if (url.startsWith(dataPrefix) || url.startsWith("blob:")) return url;
  const parsed = new URL(url, location.origin);
  return parsed.origin === location.origin ? parsed.href : null;
}

export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false; // no clipboard permission (e.g. headless): the text is on the page anyway
  }
}

export const dateOf = (seconds) => (seconds ? new Date(seconds * 1000).toISOString().slice(0, 16).replace("T", " ") : "");
