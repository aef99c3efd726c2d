// Offline plan card check: verifies a card's Ed25519 signature with the browser's
// own WebCrypto against the published keys (cached by the service worker), and
// says whom to call. It never fetches or shows plan content.
"use strict";

(function () {
  const script = document.currentScript;
  const KEYS_URL = (script && script.dataset.keys) || "/.well-known/plan-card-keys.json";
  const REVOKED_URL = (script && script.dataset.revoked) || "/cards/revoked.json";
  const CARD_ID_BYTES = 10;
  const SIGNATURE_BYTES = 64;
  const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

  function base32Decode(text) {
    const clean = text.trim().toUpperCase().replace(/=+$/, "");
    if (!/^[A-Z2-7]+$/.test(clean)) throw new Error("not a card code");
    const out = [];
    let buffer = 0;
    let bits = 0;
    for (const ch of clean) {
      buffer = (buffer << 5) | ALPHABET.indexOf(ch);
      bits += 5;
      if (bits >= 8) {
        bits -= 8;
        out.push((buffer >> bits) & 0xff);
      }
    }
    return new Uint8Array(out);
  }

  function base32Encode(bytes) {
    let out = "";
    let buffer = 0;
    let bits = 0;
    for (const byte of bytes) {
      buffer = (buffer << 8) | byte;
      bits += 8;
      while (bits >= 5) {
        bits -= 5;
        out += ALPHABET[(buffer >> bits) & 31];
      }
    }
    if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31];
    return out;
  }

  function base64Decode(text) {
    const raw = atob(text);
    return Uint8Array.from(raw, (ch) => ch.charCodeAt(0));
  }

  function tokenFrom(text) {
    const value = text.trim();
    const marker = value.toUpperCase().lastIndexOf("/C/");
    return (marker >= 0 ? value.slice(marker + 3) : value).replace(/\/+$/, "");
  }

  function readToken(token) {
    const raw = base32Decode(token);
    if (raw.length < 2 + CARD_ID_BYTES + 8 + SIGNATURE_BYTES || raw[0] !== 1) {
      throw new Error("not a card code");
    }
    const kidLength = raw[1];
    const bodyLength = 2 + kidLength + CARD_ID_BYTES + 8;
    if (raw.length !== bodyLength + SIGNATURE_BYTES) throw new Error("not a card code");
    const kid = new TextDecoder().decode(raw.slice(2, 2 + kidLength));
    const offset = 2 + kidLength;
    const cardId = base32Encode(raw.slice(offset, offset + CARD_ID_BYTES));
    const view = new DataView(raw.buffer, offset + CARD_ID_BYTES, 8);
    return {
      kid,
      cardId,
      shortId: cardId.slice(0, 4) + "-" + cardId.slice(4, 8),
      issuedAt: new Date(view.getUint32(0) * 1000),
      expiresAt: new Date(view.getUint32(4) * 1000),
      body: raw.slice(0, bodyLength),
      signature: raw.slice(bodyLength),
    };
  }

  async function verifyEd25519(publicKeyB64, signature, data) {
    const key = await crypto.subtle.importKey(
      "raw", base64Decode(publicKeyB64), { name: "Ed25519" }, false, ["verify"]
    );
    return crypto.subtle.verify({ name: "Ed25519" }, key, signature, data);
  }

  async function fetchJson(url) {
    const response = await fetch(url, { credentials: "omit" });
    if (!response.ok) throw new Error("could not load " + url);
    return response.json();
  }

  async function revokedIds(keysDoc) {
    let listDoc;
    try {
      listDoc = await fetchJson(REVOKED_URL);
    } catch (error) {
      return null; // no copy of the list on this device: say so, do not guess
    }
    const entry = keysDoc.keys.find((k) => k.kid === listDoc.kid);
    if (!entry) return null;
    const text = new TextEncoder().encode(listDoc.list);
    const ok = await verifyEd25519(entry.public_key, base64Decode(listDoc.signature), text);
    if (!ok) return null;
    const [stamp, ...ids] = listDoc.list.split("\n");
    return { at: new Date(stamp), ids: new Set(ids) };
  }

  // Check a card link or code; resolve to what a responder needs to know.
  async function checkCard(text) {
    let claims;
    try {
      claims = readToken(tokenFrom(text));
    } catch (error) {
      return { state: "invalid" };
    }
    const keysDoc = await fetchJson(KEYS_URL);
    const entry = keysDoc.keys.find((k) => k.kid === claims.kid && k.use === "card");
    if (!entry) return { state: "invalid" };
    const genuine = await verifyEd25519(entry.public_key, claims.signature, claims.body);
    if (!genuine) return { state: "invalid" };
    const result = {
      state: "valid",
      card: claims.shortId,
      team: entry.team || null,
      service: keysDoc.service || null,
      expiresAt: claims.expiresAt,
      revocationsAt: null,
    };
    if (claims.expiresAt <= new Date()) result.state = "expired";
    const revoked = await revokedIds(keysDoc);
    if (revoked) {
      result.revocationsAt = revoked.at;
      if (revoked.ids.has(claims.cardId)) result.state = "revoked";
    }
    return result;
  }

  function telLink(phone) {
    const link = document.createElement("a");
    link.href = "tel:" + phone.replace(/\s+/g, "");
    link.textContent = phone;
    return link;
  }

  function show(result) {
    const box = document.getElementById("card-result");
    box.replaceChildren();
    const heading = document.createElement("h2");
    const words = {
      valid: "Genuine card",
      expired: "Genuine card, but it has expired",
      revoked: "This card has been cancelled",
      invalid: "Not a genuine plan card",
    };
    heading.textContent = words[result.state];
    box.dataset.state = result.state;
    box.append(heading);
    if (result.state === "invalid") return;
    const team = document.createElement("p");
    if (result.team) {
      team.append("Issued by " + result.team.name + ". ");
      if (result.team.phone) {
        team.append("Phone ");
        team.append(telLink(result.team.phone));
        if (result.team.hours) team.append(" (" + result.team.hours + ")");
        team.append(".");
      }
    }
    box.append(team);
    // The team line open now, in UK time (open-now.js, cached with the shell).
    if (result.team && result.team.lines && window.openNow) {
      const now = document.createElement("p");
      now.dataset.openLine = "";
      window.openNow.show(now, result.team.lines);
      box.append(now);
    }
    const card = document.createElement("p");
    card.textContent = "Card " + result.card + ".";
    if (result.revocationsAt) {
      card.textContent += " Cancelled cards checked as of " + result.revocationsAt.toLocaleString() + ".";
    } else {
      card.textContent += " The list of cancelled cards is not on this device.";
    }
    box.append(card);
    if (result.state === "valid") {
      const next = document.createElement("p");
      next.textContent = "With signal, sign in and scan again to see the plan.";
      box.append(next);
    }
  }

  async function run(text) {
    try {
      show(await checkCard(text));
    } catch (error) {
      const box = document.getElementById("card-result");
      box.dataset.state = "error";
      box.textContent = "The card keys are not on this device yet: open this page once with signal.";
    }
  }

  async function scanWithCamera(video) {
    const detector = new BarcodeDetector({ formats: ["qr_code"] });
    const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    video.srcObject = stream;
    video.hidden = false;
    await video.play();
    try {
      for (;;) {
        const codes = await detector.detect(video);
        if (codes.length) return codes[0].rawValue;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    } finally {
      stream.getTracks().forEach((track) => track.stop());
      video.hidden = true;
    }
  }

  window.cardVerify = { checkCard, readToken, tokenFrom };

  document.addEventListener("DOMContentLoaded", () => {
    const form = document.getElementById("card-check");
    if (!form) return;
    const input = form.querySelector("input[name=card]");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      run(input.value);
    });
    const scanButton = document.getElementById("card-scan");
    if ("BarcodeDetector" in window && navigator.mediaDevices) {
      scanButton.hidden = false;
      scanButton.addEventListener("click", async () => {
        const value = await scanWithCamera(document.getElementById("card-video"));
        input.value = value;
        run(value);
      });
    }
    // A card link opened with no signal: the service worker answers the card's
    // own URL (/C/<token>) with this page, so check the card it names. A link
    // may also hand the card over in the fragment, which never leaves the device.
    if (/^\/c\/[A-Za-z2-7]+\/?$/i.test(location.pathname)) {
      input.value = location.href;
      run(input.value);
    } else if (location.hash.length > 1) {
      input.value = decodeURIComponent(location.hash.slice(1));
      history.replaceState(null, "", location.pathname);
      run(input.value);
    }
  });
})();
