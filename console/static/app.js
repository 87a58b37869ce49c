// The console's entry: sign in with an API key (checked with GET /v1/console/me), then one page
// per hash (#playground, #usage, #stored, #keys). Every page's data comes from the JSON API.
import { api, session } from "./api.js";
import { $ } from "./dom.js";
import * as keys from "./keys.js";
import * as playground from "./playground.js";
import * as stored from "./stored.js";
import * as usage from "./usage.js";

const PAGES = { playground, usage, stored, keys };

function route() {
  const wanted = location.hash.slice(1);
  const name = wanted in PAGES ? wanted : "playground";
  for (const page of Object.keys(PAGES)) $(`page-${page}`).hidden = page !== name;
  for (const link of $("nav").querySelectorAll("a")) {
    if (link.hash === `#${name}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  $("page-error").textContent = "";
  delete document.body.dataset.ready; // set again once the page has its data (tests wait for it)
  PAGES[name].open().then(() => { document.body.dataset.ready = name; }, (error) => {
    if (error.status === 401) signOut();
    else $("page-error").textContent = error.message;
  });
}

function signedIn(me) {
  $("signin").hidden = true;
  $("nav").hidden = false;
  $("sign-out").hidden = false;
  const owner = me.owner === me.key_id ? "no project" : `project ${me.owner}`;
  $("whoami").textContent = `${me.key_id} · ${owner}${me.admin ? " · admin" : ""}`;
  route();
}

function signOut() {
  session.end();
  location.hash = "";
  location.reload();
}

async function signIn(event) {
  event.preventDefault();
  const input = $("signin-key");
  const key = input.value.trim();
  input.value = ""; // the key is not kept in the page
  try {
    const me = await api("/v1/console/me", { key });
    session.start(key);
    signedIn(me);
  } catch (error) {
    $("signin-error").textContent = error.status === 401 ? "That key was refused." : error.message;
  }
}

function start() {
  for (const page of Object.values(PAGES)) page.init?.();
  $("signin-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", signOut);
  window.addEventListener("hashchange", () => session.key && route());
  if (session.key) {
    api("/v1/console/me").then(signedIn, () => session.end());
  }
}

start();
