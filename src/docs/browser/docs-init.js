// The docs page's start script, run in the browser (plain JavaScript, not compiled). It is a file of
// its own because the page's Content-Security-Policy allows scripts from the gateway's origin only,
// never inline ones. The page's root element carries what the gateway tells it (data-* attributes).
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");

  /** The document as the page shows it: the served one, made to describe this gateway. */
  function forThisGateway(spec) {
    // "Try it" must call this gateway, whatever servers the document names (the page's CSP would
    // block any other origin anyway): one server, this origin, for the document and every path.
    spec.servers = [{ url: window.location.origin, description: "this gateway" }];
    Object.keys(spec.paths || {}).forEach(function (path) {
      var item = spec.paths[path];
      delete item.servers;
      Object.keys(item).forEach(function (method) {
        if (item[method] && typeof item[method] === "object") delete item[method].servers;
      });
    });
    // The API-key header is configurable per gateway: the form sends the one this gateway reads.
    var schemes = (spec.components && spec.components.securitySchemes) || {};
    var apiKey = schemes.apiKeyAuth;
    var header = root.getAttribute("data-api-key-header");
    if (apiKey && apiKey.type === "apiKey" && apiKey.in === "header" && header) apiKey.name = header;
    return spec;
  }

  function showError(message) {
    root.textContent = "";
    var p = document.createElement("p");
    p.className = "docs-error";
    p.textContent = message;
    root.appendChild(p);
  }

  fetch(root.getAttribute("data-openapi"), { headers: { accept: "application/json" }, credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) throw new Error("the gateway answered " + response.status);
      return response.json();
    })
    .then(function (spec) {
      // Boundary: SwaggerUIBundle is the global the bundle script defines.
      window.ui = window.SwaggerUIBundle({
        spec: forThisGateway(spec),
        domNode: root,
        presets: [window.SwaggerUIBundle.presets.apis],
        layout: "BaseLayout",
        deepLinking: true,
        // The "try it" form is open on every operation: one click (Execute) sends the request.
        tryItOutEnabled: true,
        displayRequestDuration: true,
        // Never ask validator.swagger.io to validate the document (no outside requests).
        validatorUrl: null,
        // Tokens pasted into Authorize live in this page only, not in localStorage.
        persistAuthorization: false,
      });
    })
    .catch(function (error) {
      showError("Cannot load the API document: " + error.message);
    });
})();
