// Responder: the few things a phone page needs script for. Loaded as a module
// (deferred), so it never blocks rendering; every page works without it, only
// "near me" and the card scanner need it.

const status = (element, text) => {
  if (element) element.textContent = text;
};

// The service worker keeps only the app shell; see /sw.js.
if ("serviceWorker" in navigator && document.body.dataset.serviceWorker === "on") {
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
}

// Signing out: tell the service worker to drop its caches and unregister, on
// top of the Clear-Site-Data header the sign-out answer carries.
const forgetThisPhone = () => {
  if (!("serviceWorker" in navigator)) return;
  const worker = navigator.serviceWorker.controller;
  if (worker) worker.postMessage({ type: "sign-out" });
};
for (const form of document.querySelectorAll("form[data-sign-out]")) {
  form.addEventListener("submit", forgetThisPhone);
}

// Near me: ask for the phone's location only when the button is pressed.
for (const form of document.querySelectorAll("form[data-near-me]")) {
  const live = document.getElementById(form.dataset.status || "");
  form.addEventListener("submit", (event) => {
    const lat = form.querySelector("input[name=lat]");
    const lon = form.querySelector("input[name=lon]");
    if (lat.value && lon.value) return;
    event.preventDefault();
    if (!("geolocation" in navigator)) {
      status(live, "This phone cannot share its location. Type a street or place instead.");
      return;
    }
    status(live, "Finding where you are…");
    navigator.geolocation.getCurrentPosition(
      (position) => {
        lat.value = position.coords.latitude.toFixed(6);
        lon.value = position.coords.longitude.toFixed(6);
        status(live, "Searching near you…");
        form.submit();
      },
      () => {
        status(live, "Location not available. Allow location, or type a street or place.");
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
    );
  });
}

// Card scanner: BarcodeDetector where the browser has it; otherwise the page
// already says to use the phone's own camera app.
const scanner = document.querySelector("[data-scanner]");
if (scanner && "BarcodeDetector" in window && navigator.mediaDevices) {
  const video = scanner.querySelector("video");
  const start = scanner.querySelector("[data-scan-start]");
  const live = scanner.querySelector("[data-scan-status]");
  const fallback = document.querySelector("[data-scan-fallback]");
  scanner.hidden = false;
  if (fallback) fallback.hidden = true;

  const cardPath = (text) => {
    try {
      const url = new URL(text, window.location.href);
      if (url.origin !== window.location.origin) return null;
      return /^\/c\/[A-Za-z0-9._~-]+$/.test(url.pathname) ? url.pathname : null;
    } catch {
      return null;
    }
  };

  start.addEventListener("click", async () => {
    let stream;
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      if (!formats.includes("qr_code")) throw new Error("no QR support");
      stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: "environment" },
        audio: false,
      });
    } catch {
      status(live, "The camera is not available here. Use your phone camera app to scan the card.");
      return;
    }
    const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    video.srcObject = stream;
    video.hidden = false;
    await video.play();
    start.hidden = true;
    status(live, "Point the camera at the QR code on the card.");
    const stop = () => {
      for (const track of stream.getTracks()) track.stop();
    };
    const look = async () => {
      try {
        for (const code of await detector.detect(video)) {
          const path = cardPath(code.rawValue);
          if (path) {
            stop();
            status(live, "Card found. Opening…");
            window.location.assign(path);
            return;
          }
          status(live, "That code is not a plan card from this service.");
        }
      } catch {
        // A frame that could not be read; try the next one.
      }
      window.setTimeout(look, 250);
    };
    look();
    window.addEventListener("pagehide", stop, { once: true });
  });
}

// Portal imports: show the upload's progress, then "checking" while the server
// reads every line. Without script the form posts as usual.
const bindUploadProgress = (root) => {
  for (const form of root.querySelectorAll("form[data-upload-progress]")) {
    const bar = document.getElementById(form.dataset.uploadProgress);
    const live = document.getElementById(form.dataset.status || "");
    form.addEventListener("submit", (event) => {
      if (!bar || !window.FormData || !window.XMLHttpRequest) return;
      event.preventDefault();
      const request = new XMLHttpRequest();
      request.open("POST", form.action);
      bar.hidden = false;
      bar.value = 0;
      status(live, "Sending the file…");
      request.upload.addEventListener("progress", (progress) => {
        if (progress.lengthComputable) bar.value = (100 * progress.loaded) / progress.total;
      });
      request.upload.addEventListener("load", () => {
        bar.removeAttribute("value"); // indeterminate while the server checks
        status(live, "Checking every line…");
      });
      request.addEventListener("load", () => {
        // The request followed any redirect, and the page it answered carries
        // the one-time message: show that page rather than load it again.
        const page = new DOMParser().parseFromString(request.responseText, "text/html");
        const main = page.querySelector("main");
        const here = document.querySelector("main");
        if (!main || !here) {
          window.location.assign(request.responseURL || form.action);
          return;
        }
        if (request.responseURL && request.responseURL !== window.location.href) {
          window.history.pushState({}, "", request.responseURL);
        }
        document.title = page.title;
        here.replaceChildren(...main.childNodes);
        bindUploadProgress(here);
        here.focus();
      });
      request.addEventListener("error", () => {
        bar.hidden = true;
        status(live, "The file could not be sent. Check the connection and try again.");
      });
      request.send(new FormData(form));
    });
  }
};
bindUploadProgress(document);
