// Wall screens: a person who moves the mouse sees the "Exit wall" link for a few seconds; Esc follows it.
(function () {
  let timer = null;
  function wall() { return document.querySelector(".wall"); }
  document.addEventListener("mousemove", function () {
    const w = wall();
    if (!w) return;
    w.classList.add("wall-awake");
    clearTimeout(timer);
    timer = setTimeout(function () { w.classList.remove("wall-awake"); }, 3000);
  });
  document.addEventListener("keydown", function (e) {
    const exit = document.getElementById("wall-exit");
    if (e.key === "Escape" && exit && wall()) { window.location.assign(exit.getAttribute("href")); }
  });
})();
