// Support Autopilot playground: every text is rendered with textContent, never as HTML; replies are built from
// their blocks with DOM nodes, and only http(s) links are made.
"use strict";

(() => {
  const form = document.getElementById("composer");
  const input = document.getElementById("text");
  const send = document.getElementById("send");
  const log = document.getElementById("log");
  const empty = document.getElementById("empty");
  const status = document.getElementById("status");
  const KEY = "autopilot-playground-session";

  function newSession() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes); // works on plain http too, unlike crypto.randomUUID
    const id = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    sessionStorage.setItem(KEY, id);
    return id;
  }

  let session = sessionStorage.getItem(KEY) || newSession();

  function fill(node, selector, text) {
    node.querySelector(selector).textContent = text;
  }

  // a reply's blocks (bot/playground.py reply_view) as DOM nodes; text only through textContent
  function spans(parent, list) {
    for (const span of list || []) {
      let node = document.createTextNode(String(span.text || ""));
      if (typeof span.href === "string" && /^https?:\/\//i.test(span.href)) {
        const link = document.createElement("a");
        link.href = span.href;
        link.target = "_blank";
        link.rel = "noopener noreferrer";
        link.appendChild(node);
        node = link;
      }
      if (span.strong) {
        const strong = document.createElement("strong");
        strong.appendChild(node);
        node = strong;
      }
      parent.appendChild(node);
    }
  }

  function renderReply(container, blocks) {
    container.replaceChildren();
    for (const block of blocks) {
      if (block.type === "list") {
        const list = document.createElement(block.ordered ? "ol" : "ul");
        if (block.ordered && Number.isInteger(block.start) && block.start !== 1) list.start = block.start;
        for (const item of block.items || []) {
          const entry = document.createElement("li");
          spans(entry, item);
          list.appendChild(entry);
        }
        container.appendChild(list);
      } else {
        const paragraph = document.createElement("p");
        (block.lines || []).forEach((line, i) => {
          if (i > 0) paragraph.appendChild(document.createElement("br"));
          spans(paragraph, line);
        });
        container.appendChild(paragraph);
      }
    }
  }

  function when(iso) {
    const at = new Date(iso);
    const parts = { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", timeZoneName: "short" };
    return at.toLocaleString(undefined, parts);
  }

  function add(node) {
    empty.hidden = true;
    log.appendChild(node);
    const still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    log.lastElementChild.scrollIntoView({ block: "end", behavior: still ? "auto" : "smooth" });
  }

  function showCustomer(text) {
    const node = document.getElementById("customer-message").content.cloneNode(true);
    fill(node, ".text", text);
    add(node);
  }

  function showDecision(d) {
    const node = document.getElementById("bot-message").content.cloneNode(true);
    const item = node.querySelector("li");
    item.classList.add(d.action === "handoff" ? "handoff" : "answer");
    item.dataset.action = d.action;
    item.dataset.contactId = d.contact_id;
    let reply = d.reply || "";
    if (d.action === "handoff" && d.handoff) {
      reply = `A person from ${d.handoff.tier_name} will reply by ${when(d.handoff.first_response_due)}.`;
      const details = node.querySelector(".summary");
      details.hidden = false;
      fill(node, "[data-testid=handoff-summary]", d.handoff.summary);
    }
    if (d.action !== "handoff" && Array.isArray(d.reply_blocks)) {
      renderReply(node.querySelector("[data-testid=reply]"), d.reply_blocks);
    } else {
      fill(node, "[data-testid=reply]", reply);
    }
    if (d.article && /^https?:\/\//.test(d.article.url || "")) {
      const link = node.querySelector("[data-testid=article]");
      link.href = d.article.url;
      link.textContent = d.article.title;
      node.querySelector(".article").hidden = false;
    }
    fill(node, "[data-testid=category]", `${d.category} (${d.group})`);
    fill(node, "[data-testid=confidence]", d.confidence.toFixed(2));
    fill(node, "[data-testid=action]", d.action === "handoff" ? "hand-off" : "answer");
    fill(node, "[data-testid=tier]", d.tier_name === d.tier ? d.tier : `${d.tier_name} (${d.tier})`);
    fill(node, "[data-testid=reason]", d.reason);
    fill(node, "[data-testid=stored-text]", d.stored_text);
    add(node);
  }

  async function submit(text) {
    send.disabled = true;
    input.setAttribute("aria-busy", "true");
    status.textContent = "Autopilot is thinking…";
    let decision = null;
    try {
      const response = await fetch("/playground/messages", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ session, text }),
      });
      const body = await response.json().catch(() => ({}));
      if (response.ok) {
        decision = body;
        status.textContent = "";
      } else {
        status.textContent = `Not sent (${response.status}): ${body.error || response.statusText}`;
      }
    } catch (err) {
      status.textContent = `Not sent: ${err.message}`;
    } finally {
      send.disabled = false;
      input.removeAttribute("aria-busy");
      input.focus();
    }
    if (decision) showDecision(decision);
    return decision !== null;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || send.disabled) return;
    showCustomer(text);
    input.value = "";
    if (!(await submit(text))) input.value = text;
  });

  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  document.getElementById("new-session").addEventListener("click", () => {
    session = newSession();
    log.replaceChildren();
    empty.hidden = false;
    status.textContent = "New conversation started.";
    input.focus();
  });

  input.focus();
})();
