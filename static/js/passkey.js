// Passkey sign-in and enrolment: the browser half of WebAuthn.
//
// Buttons carry data-passkey="login" or "register", data-options-url and
// data-verify-url. The server sends options as JSON (binary fields base64url);
// we turn them into ArrayBuffers, ask the authenticator, and post the answer
// back. No inline script: this file is the only code the sign-in pages run.
(function () {
  "use strict";

  function toBuffer(base64url) {
    const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
    const binary = atob(padded);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    const bytes = new Uint8Array(buffer);
    let binary = "";
    for (let i = 0; i < bytes.length; i += 1) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  async function postJSON(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      cache: "no-store",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body || {}),
    });
    let data = {};
    try {
      data = await response.json();
    } catch (_error) {
      data = {};
    }
    if (!response.ok) {
      throw new Error(data.error || "Something went wrong. Please try again.");
    }
    return data;
  }

  function descriptors(list) {
    return (list || []).map(function (item) {
      return Object.assign({}, item, { id: toBuffer(item.id) });
    });
  }

  function creationOptions(options) {
    return Object.assign({}, options, {
      challenge: toBuffer(options.challenge),
      user: Object.assign({}, options.user, { id: toBuffer(options.user.id) }),
      excludeCredentials: descriptors(options.excludeCredentials),
    });
  }

  function requestOptions(options) {
    return Object.assign({}, options, {
      challenge: toBuffer(options.challenge),
      allowCredentials: descriptors(options.allowCredentials),
    });
  }

  function registrationJSON(credential) {
    const response = credential.response;
    return {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: {
        clientDataJSON: toBase64url(response.clientDataJSON),
        attestationObject: toBase64url(response.attestationObject),
        transports: response.getTransports ? response.getTransports() : [],
      },
    };
  }

  function assertionJSON(credential) {
    const response = credential.response;
    return {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: {
        clientDataJSON: toBase64url(response.clientDataJSON),
        authenticatorData: toBase64url(response.authenticatorData),
        signature: toBase64url(response.signature),
        userHandle: response.userHandle ? toBase64url(response.userHandle) : null,
      },
    };
  }

  function errorBox(button) {
    return button.parentElement.querySelector("[data-passkey-error]");
  }

  function showError(button, message) {
    const box = errorBox(button);
    if (box) {
      box.textContent = message;
      box.hidden = false;
    }
  }

  async function signIn(button) {
    const options = await postJSON(button.dataset.optionsUrl);
    const credential = await navigator.credentials.get({
      publicKey: requestOptions(options),
    });
    return postJSON(button.dataset.verifyUrl, assertionJSON(credential));
  }

  async function register(button) {
    const options = await postJSON(button.dataset.optionsUrl);
    const credential = await navigator.credentials.create({
      publicKey: creationOptions(options),
    });
    const nameInput = document.getElementById(button.dataset.nameInput || "");
    return postJSON(button.dataset.verifyUrl, {
      credential: registrationJSON(credential),
      name: nameInput ? nameInput.value : "Passkey",
    });
  }

  function wire(button) {
    if (!window.PublicKeyCredential || !navigator.credentials) {
      button.disabled = true;
      showError(button, "This browser cannot use passkeys. Use your password instead.");
      return;
    }
    button.addEventListener("click", async function () {
      const box = errorBox(button);
      if (box) box.hidden = true;
      button.disabled = true;
      try {
        const result =
          button.dataset.passkey === "register" ? await register(button) : await signIn(button);
        if (result.redirect && result.redirect.charAt(0) === "/" && result.redirect.charAt(1) !== "/") {
          window.location.assign(result.redirect);
          return;
        }
        showError(button, "Something went wrong. Please try again.");
      } catch (error) {
        const cancelled = error && (error.name === "NotAllowedError" || error.name === "AbortError");
        showError(button, cancelled ? "The passkey was not used. Please try again." : error.message);
      }
      button.disabled = false;
    });
  }

  function start() {
    document.querySelectorAll("[data-passkey]").forEach(function (element) {
      if (element.tagName === "BUTTON") wire(element);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
