// Full-text search over the Pagefind index, with filters on year, direction and person.
// The filters read the metadata Pagefind stores for each letter (data-pagefind-meta), so the
// index itself stays byte-identical between builds.
(function () {
  var form = document.getElementById("search-form");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  if (location.protocol === "file:") {
    document.getElementById("search-offline").hidden = false;
    return;
  }
  form.hidden = false;
  var pagefind = null;
  // The index is split into shards (pagefind/shards.json); the first is loaded, the others merged.
  var base = new URL("../pagefind/", document.currentScript.src).href;
  async function load() {
    var shards = await (await fetch(base + "shards.json")).json();
    var pf = await import(base + shards[0] + "/pagefind.js");
    await pf.options({ basePath: base + shards[0] + "/" });
    for (var i = 1; i < shards.length; i++) await pf.mergeIndex(base + shards[i] + "/");
    return pf;
  }
  var counter = 0;

  function excerpt(html) {
    // Pagefind marks hits with <mark>; build the nodes ourselves instead of trusting markup.
    var p = document.createElement("p");
    html.split(/(<mark>[^<]*<\/mark>)/).forEach(function (part) {
      var m = /^<mark>([^<]*)<\/mark>$/.exec(part);
      var text = (m ? m[1] : part).replace(/<[^>]*>/g, "");
      var tmp = document.createElement("textarea");
      tmp.innerHTML = text;  // decode entities only; a textarea never renders markup
      if (m) { var mark = document.createElement("mark"); mark.textContent = tmp.value; p.appendChild(mark); }
      else { p.appendChild(document.createTextNode(tmp.value)); }
    });
    return p;
  }

  function keep(meta) {
    var year = form.year.value, direction = form.direction.value, person = form.person.value;
    if (year && meta.year !== year) return false;
    if (direction && meta.direction !== direction) return false;
    if (person && (meta.persons || "").split("|").indexOf(person) < 0) return false;
    return true;
  }

  async function run() {
    var mine = ++counter;
    var term = form.q.value.trim();
    list.textContent = "";
    if (!term) { status.textContent = ""; return; }
    if (!pagefind) pagefind = await load();
    var found = await pagefind.search(term);
    // the filters read each hit's metadata: go through the hits in batches until 50 pass
    var shown = [], i = 0, LIMIT = 50;
    while (shown.length < LIMIT && i < found.results.length) {
      var batch = await Promise.all(found.results.slice(i, i + 25).map(function (r) { return r.data(); }));
      if (mine !== counter) return;
      i += 25;
      batch.forEach(function (d) { if (shown.length < LIMIT && keep(d.meta)) shown.push(d); });
    }
    var more = shown.length === LIMIT && i < found.results.length;
    shown.forEach(function (d) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = d.url.replace(/^\//, "");
      a.textContent = d.meta.title || d.url;
      a.className = "search-result";
      li.appendChild(a);
      li.appendChild(excerpt(d.excerpt));
      list.appendChild(li);
    });
    status.textContent = (more ? "The first " : "") + shown.length + (shown.length === 1 ? " letter" : " letters") +
      " found for \u201c" + term + "\u201d" + (more ? "; refine the search to see others" : "");
  }
  var timer = null;
  form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(run, 150); });
  form.addEventListener("change", function (e) { if (e.target.tagName === "SELECT") run(); });
  form.addEventListener("submit", function (e) { e.preventDefault(); run(); });
})();
