"""The app's upload box: the browser sends each file straight to the HTTP API, streamed.

Panel's FileDropper hands the server the whole file over the websocket before anything can look
at it (a 1 GiB video is 1 GiB of server memory). Here the browser checks type and size first,
then POSTs each file to ``/api/v1/videos`` (multipart, read from disk by the browser, written to
disk by the server as it arrives) and shows its byte progress; the server answers with the
video id and the shared ingest worker takes it from there. Used when the app runs inside
``heimdex serve``; plain ``panel serve`` (no API) keeps the FileDropper.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import param
from panel.custom import JSComponent

ACCEPTED_EXTENSIONS = [".mp4", ".mov", ".avi", ".mkv", ".webm"]

# One message per file that did not become an upload on the server: {file, size, error}.
Refusal = Callable[[dict[str, Any]], None]


class StreamUploader(JSComponent):
    """Drop or choose videos; each goes to ``endpoint`` with a progress bar of its own."""

    endpoint = param.String(default="/api/v1/videos")
    max_bytes = param.Integer(default=1 << 30, doc="refused in the browser above this size")
    accept = param.List(default=ACCEPTED_EXTENSIONS, item_type=str)

    _esm = """
    const css = `
      .hx-drop { border: 2px dashed #8aa4c0; border-radius: 8px; padding: 1.4rem; cursor: pointer;
                 text-align: center; color: #345; background: #f6f9fc; font-family: system-ui; }
      .hx-drop.hx-over { background: #e3eefa; border-color: #0072b5; }
      .hx-row { display: flex; gap: .6rem; align-items: center; font: 13px system-ui;
                margin-top: .4rem; }
      .hx-row progress { flex: 0 0 180px; }
      .hx-row .hx-name { flex: 0 1 auto; font-weight: 600; }
      .hx-row .hx-bad { color: #b00020; }`;

    function fmt(bytes) { return (bytes / 1048576).toFixed(1) + " MB"; }

    export function render({ model, el }) {
      const style = document.createElement("style");
      style.textContent = css;
      const zone = document.createElement("label");
      zone.className = "hx-drop heimdex-dropzone";
      const input = document.createElement("input");
      input.type = "file";
      input.multiple = true;
      input.accept = model.accept.join(",");
      input.style.display = "none";
      zone.append(`Drop videos here, or click to choose (${model.accept.join(" ")},`
                  + ` up to ${fmt(model.max_bytes)} each)`, input);
      const list = document.createElement("div");
      el.append(style, zone, list);

      function refuse(row, file, error) {
        row.status.textContent = error;
        row.status.className = "hx-bad";
        row.bar.remove();
        model.send_msg({ file: file.name, size: file.size, error: error });
      }

      function send(file) {
        const row = document.createElement("div");
        row.className = "hx-row";
        const name = document.createElement("span");
        name.className = "hx-name";
        name.textContent = file.name;
        row.bar = document.createElement("progress");
        row.bar.max = 1;
        row.bar.value = 0;
        row.status = document.createElement("span");
        row.append(name, row.bar, row.status);
        list.prepend(row);
        const dot = file.name.lastIndexOf(".");
        const ext = dot < 0 ? "" : file.name.slice(dot).toLowerCase();
        if (!model.accept.includes(ext)) {
          return refuse(row, file, `${file.name}: not a video file (accepted: `
                        + `${model.accept.join(" ")})`);
        }
        if (file.size > model.max_bytes) {
          return refuse(row, file, `${file.name}: ${fmt(file.size)} is over the limit of `
                        + `${fmt(model.max_bytes)}`);
        }
        const xhr = new XMLHttpRequest();
        xhr.open("POST", model.endpoint);
        xhr.upload.onprogress = (e) => {
          if (e.lengthComputable) {
            row.bar.value = e.loaded / e.total;
            row.status.textContent = `uploading ${fmt(e.loaded)} of ${fmt(e.total)}`;
          }
        };
        xhr.onload = () => {
          let body = {};
          try { body = JSON.parse(xhr.responseText); } catch (err) { body = {}; }
          if (xhr.status === 202) {
            row.bar.value = 1;
            row.status.textContent = "uploaded: processing below";
          } else {
            refuse(row, file, body.detail || `${file.name}: upload failed (${xhr.status})`);
          }
        };
        xhr.onerror = () => refuse(row, file, `${file.name}: the upload was interrupted`);
        const form = new FormData();
        form.append("file", file, file.name);
        xhr.send(form);
      }

      input.addEventListener("change", () => {
        for (const file of input.files) send(file);
        input.value = "";
      });
      zone.addEventListener("dragover", (e) => {
        e.preventDefault();
        zone.classList.add("hx-over");
      });
      zone.addEventListener("dragleave", () => zone.classList.remove("hx-over"));
      zone.addEventListener("drop", (e) => {
        e.preventDefault();
        zone.classList.remove("hx-over");
        for (const file of e.dataTransfer.files) send(file);
      });
    }
    """

    def __init__(self, on_refused: Refusal | None = None, **params: Any) -> None:
        super().__init__(**params)
        self._on_refused = on_refused

    def _handle_msg(self, msg: Any) -> None:
        if self._on_refused is not None and isinstance(msg, dict):
            self._on_refused(msg)
