// Polls the overview API and renders it. Every text from the API goes into the page through
// textContent or an attribute value, never as markup, because prompts and names are user text.
(function () {
  "use strict";

  const POLL_INTERVAL_MS = 5000;
  const STATUS_ORDER = ["queued", "running", "succeeded", "failed", "cancelled"];
  const SVG_NS = "http://www.w3.org/2000/svg";
  const CHART = { width: 720, height: 220, left: 48, right: 96, top: 12, bottom: 26 };

  // The page's own URL carries the token, and the API requests send it in a header instead.
  const token = new URLSearchParams(window.location.search).get("token") || "";

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    if (className) {
      node.className = className;
    }
    return node;
  }

  function svgElement(tag, attributes) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      node.setAttribute(name, String(value));
    }
    return node;
  }

  function formatDuration(seconds) {
    if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) {
      return "—";
    }
    const s = Math.max(0, seconds);
    if (s < 10) {
      return s.toFixed(1) + " s";
    }
    if (s < 60) {
      return Math.round(s) + " s";
    }
    if (s < 3600) {
      return Math.floor(s / 60) + " min " + Math.round(s % 60) + " s";
    }
    return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
  }

  function formatClock(unixSeconds) {
    return new Date(unixSeconds * 1000).toLocaleString();
  }

  function since(now, unixSeconds) {
    return unixSeconds === null ? null : now - unixSeconds;
  }

  function promptCell(job) {
    const text = job.kind === "upscale" ? "Upscale: " + job.prompt : job.prompt;
    return element("td", text, "prompt");
  }

  function numberCell(text) {
    return element("td", text, "number");
  }

  function finishedCell(job, now) {
    if (job.finished_at === null) {
      return numberCell("—");
    }
    const cell = numberCell(formatDuration(since(now, job.finished_at)) + " ago");
    cell.title = formatClock(job.finished_at);
    return cell;
  }

  function jobRow(job, cells) {
    const row = document.createElement("tr");
    row.dataset.jobId = String(job.id);
    row.append(...cells);
    return row;
  }

  function fillTable(id, rows, emptyText) {
    const table = document.getElementById(id);
    const body = table.tBodies[0];
    if (rows.length === 0) {
      const cell = element("td", emptyText, "empty");
      cell.colSpan = table.tHead.rows[0].cells.length;
      const row = document.createElement("tr");
      row.append(cell);
      body.replaceChildren(row);
    } else {
      body.replaceChildren(...rows);
    }
  }

  function renderCounts(counts) {
    const list = document.getElementById("counts");
    const items = STATUS_ORDER.map((status) => {
      const item = document.createElement("div");
      item.dataset.status = status;
      item.append(element("dt", status), element("dd", counts[status] || 0));
      return item;
    });
    list.replaceChildren(...items);
  }

  function renderBackends(backends) {
    const rows = backends.map((backend) => {
      const state = backend.up ? "up" : "down";
      const row = document.createElement("tr");
      row.dataset.backend = backend.name;
      row.dataset.state = state;
      const stateCell = document.createElement("td");
      stateCell.append(element("span", backend.up ? "Up" : "Down", "state " + state));
      row.append(element("td", backend.name), element("td", backend.url), stateCell);
      return row;
    });
    fillTable("backends", rows, "No backends are configured.");
  }

  function renderRunning(jobs, now) {
    document.getElementById("running-count").textContent = "(" + jobs.length + ")";
    const rows = jobs.map((job) =>
      jobRow(job, [
        numberCell(job.id),
        element("td", job.requester),
        promptCell(job),
        element("td", job.backend),
        numberCell(formatDuration(job.wait_s)),
        numberCell(formatDuration(since(now, job.started_at))),
      ]),
    );
    fillTable("running", rows, "No job is running.");
  }

  function renderWaiting(waiting, now) {
    document.getElementById("waiting-count").textContent = "(" + waiting.total + ")";
    const rows = waiting.jobs.map((job) =>
      jobRow(job, [
        numberCell(job.position),
        numberCell(job.ahead),
        numberCell(job.id),
        element("td", job.requester),
        promptCell(job),
        numberCell(formatDuration(since(now, job.enqueued_at))),
        numberCell(job.attempts),
      ]),
    );
    fillTable("waiting", rows, "No job is waiting.");
    const hidden = waiting.total - waiting.jobs.length;
    document.getElementById("waiting-more").textContent =
      hidden > 0 ? hidden + " more waiting jobs are not listed." : "";
  }

  function renderSuccesses(jobs, now) {
    const rows = jobs.map((job) =>
      jobRow(job, [
        numberCell(job.id),
        element("td", job.requester),
        promptCell(job),
        element("td", job.backend),
        finishedCell(job, now),
        numberCell(formatDuration(job.wait_s)),
        numberCell(formatDuration(job.run_s)),
      ]),
    );
    fillTable("successes", rows, "No job has succeeded yet.");
  }

  function renderFailures(jobs, now) {
    const rows = jobs.map((job) =>
      jobRow(job, [
        numberCell(job.id),
        element("td", job.requester),
        promptCell(job),
        element("td", job.backend),
        finishedCell(job, now),
        element("td", job.error || "No reason was recorded.", "reason"),
      ]),
    );
    fillTable("failures", rows, "No job has failed yet.");
  }

  function chartBars(points, plot, maxCount) {
    const slot = plot.width / points.length;
    const bars = [];
    points.forEach((point, index) => {
      const x = plot.left + index * slot + 1;
      let base = plot.bottom;
      for (const kind of ["succeeded", "failed"]) {
        const height = (point[kind] / maxCount) * plot.height;
        const bar = svgElement("rect", {
          class: "bar " + kind,
          "data-minute": index,
          x: x.toFixed(1),
          y: (base - height).toFixed(1),
          width: Math.max(1, slot - 2).toFixed(1),
          height: height.toFixed(1),
        });
        const title = svgElement("title");
        title.textContent = formatClock(point.start) + ": " + point[kind] + " " + kind;
        bar.append(title);
        bars.push(bar);
        base -= height;
      }
    });
    return bars;
  }

  // The line joins the mean waits of adjacent minutes, and a dot marks every minute that has
  // one, so a minute between two empty minutes still shows.
  function chartWait(points, plot, maxWait) {
    const slot = plot.width / points.length;
    const dots = [];
    let path = "";
    let drawing = false;
    points.forEach((point, index) => {
      if (point.mean_wait_s === null) {
        drawing = false;
        return;
      }
      const x = (plot.left + (index + 0.5) * slot).toFixed(1);
      const y = (plot.bottom - (point.mean_wait_s / maxWait) * plot.height).toFixed(1);
      path += (drawing ? " L " : " M ") + x + " " + y;
      drawing = true;
      const dot = svgElement("circle", { class: "wait-point", cx: x, cy: y, r: 3 });
      const title = svgElement("title");
      title.textContent =
        formatClock(point.start) + ": mean wait " + formatDuration(point.mean_wait_s);
      dot.append(title);
      dots.push(dot);
    });
    return [svgElement("path", { class: "wait-line", d: path.trim() || "M 0 0" }), ...dots];
  }

  function chartLabel(text, x, y, anchor) {
    const label = svgElement("text", { x: x, y: y, "text-anchor": anchor });
    label.textContent = text;
    return label;
  }

  function renderChart(chart) {
    const points = chart.points;
    const plot = {
      left: CHART.left,
      width: CHART.width - CHART.left - CHART.right,
      bottom: CHART.height - CHART.bottom,
      height: CHART.height - CHART.top - CHART.bottom,
    };
    const maxCount = Math.max(1, ...points.map((point) => point.finished));
    const maxWait = Math.max(1, ...points.map((point) => point.mean_wait_s || 0));
    const totalFinished = points.reduce((sum, point) => sum + point.finished, 0);
    const svg = svgElement("svg", {
      viewBox: "0 0 " + CHART.width + " " + CHART.height,
      role: "img",
      "aria-label": totalFinished + " jobs finished in the last hour",
    });
    const right = plot.left + plot.width;
    svg.append(
      svgElement("line", {
        class: "axis", x1: plot.left, y1: plot.bottom, x2: right, y2: plot.bottom,
      }),
      ...chartBars(points, plot, maxCount),
      ...chartWait(points, plot, maxWait),
      chartLabel(maxCount + " jobs", plot.left - 4, CHART.top + 10, "end"),
      chartLabel("0", plot.left - 4, plot.bottom, "end"),
      chartLabel(formatDuration(maxWait) + " wait", right + 4, CHART.top + 10, "start"),
      chartLabel("60 min ago", plot.left, CHART.height - 6, "start"),
      chartLabel("30 min ago", plot.left + plot.width / 2, CHART.height - 6, "middle"),
      chartLabel("now", right, CHART.height - 6, "end"),
    );
    document.getElementById("chart").replaceChildren(svg);
  }

  function render(overview) {
    const now = overview.generated_at;
    renderCounts(overview.counts);
    renderBackends(overview.backends);
    renderChart(overview.chart);
    renderRunning(overview.running, now);
    renderWaiting(overview.waiting, now);
    renderSuccesses(overview.successes, now);
    renderFailures(overview.failures, now);
  }

  function showStatus(text, isError) {
    const status = document.getElementById("status");
    status.textContent = text;
    status.classList.toggle("error", isError);
  }

  async function refresh() {
    try {
      const response = await fetch("api/overview", {
        headers: { Authorization: "Bearer " + token },
        cache: "no-store",
      });
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      const overview = await response.json();
      render(overview);
      showStatus(
        "Updated " + new Date().toLocaleTimeString() + ", " + overview.policy + " queue",
        false,
      );
    } catch (error) {
      showStatus("Could not load the queue (" + error.message + "); retrying.", true);
    } finally {
      window.setTimeout(refresh, POLL_INTERVAL_MS);
    }
  }

  refresh();
})();
