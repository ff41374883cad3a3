// Prefix suggestions for the gene search box, from /api/genes?q=...
(function () {
  const input = document.getElementById("gene-search");
  const list = document.getElementById("gene-suggestions");
  if (!input || !list) return;
  let timer = null;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    const q = input.value.trim();
    if (!q) { list.innerHTML = ""; return; }
    timer = setTimeout(function () {
      fetch("/api/genes?limit=10&q=" + encodeURIComponent(q)).then(r => r.ok ? r.json() : {genes: []}).then(function (data) {
        list.innerHTML = "";
        for (const g of data.genes) {
          const opt = document.createElement("option");
          opt.value = g.symbol || g.gene_id;
          opt.label = g.gene_id + " " + g.chrom;
          list.appendChild(opt);
        }
      });
    }, 120);
  });
})();
