// tipfusion: the only first-party script. Pages work without it; it only helps htmx and forms.
// The CSRF token reaches htmx through <body hx-headers>; this copies it onto fetch() calls made by page scripts.
(function () {
  "use strict";
  var body = document.body;
  var token = body ? body.getAttribute("data-csrf") : "";
  window.tipfusion = {
    csrf: token || "",
    post: function (url, data) {
      return fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRF-Token": token || "", "Content-Type": "application/json" },
        body: JSON.stringify(data || {})
      });
    }
  };
  // Confirm buttons: <button data-confirm="Really?"> asks before submitting (no inline onclick).
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target && target.closest) {
      var button = target.closest("[data-confirm]");
      if (button && !window.confirm(button.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    }
  });
})();
