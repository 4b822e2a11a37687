// When a session ends or a wall token is revoked, callbacks answer 401: go to the sign-in page, then come back.
(function () {
  const original = window.fetch;
  let leaving = false; // several callbacks may be refused at once: navigate once
  window.fetch = async function (...args) {
    const response = await original.apply(this, args);
    if (response.status === 401 && !leaving && String(args[0]).includes("/_dash-")) {
      leaving = true;
      response.clone().json().then((body) => {
        const here = window.location.pathname + window.location.search + window.location.hash;
        const query = new URLSearchParams({ next: here });
        if (body && body.reason) query.set("reason", body.reason);
        window.location.assign("/login?" + query.toString());
      }).catch(() => {});
    }
    return response;
  };
})();
