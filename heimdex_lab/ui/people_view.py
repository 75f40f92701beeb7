"""The People tab: enrol from photos; each person and each group of unnamed look-alike faces as a
card with a face picture; name a group, merge or remove people chosen on their cards."""

from __future__ import annotations

import html
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import panel as pn
import param
from panel.custom import JSComponent

from heimdex_lab.errors import HeimdexError
from heimdex_lab.ui.thumbs import data_uri

if TYPE_CHECKING:
    from heimdex_lab.ui.app import LibraryState

FACE_PX = 112
MAX_GROUPS = 24  # the largest groups; the rest show as they get named


class FaceCards(JSComponent):
    """Cards of people (``kind="person"``: tick to select) or of unnamed face groups
    (``kind="group"``: a name box each; ``send_msg({action: "name", id, name})``)."""

    kind: param.Selector[str] = param.Selector(default="person", objects=["person", "group"])
    items = param.List(default=[], doc="dicts: id, name (people), detail, picture (URL or '')")
    selected = param.List(default=[], item_type=str, doc="ids ticked in the browser")

    _esm = """
    const css = `
      .hx-faces { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr));
                  gap: .6rem; font: 13px system-ui; }
      .hx-face { border: 1px solid #d8dde3; border-radius: 6px; background: #fff; padding: .5rem;
                 display: flex; flex-direction: column; align-items: center; gap: .3rem; }
      .hx-face.hx-selected { border-color: #0072b5; box-shadow: 0 0 0 2px #0072b5 inset; }
      .hx-face img, .hx-face .hx-blank { width: 96px; height: 96px; object-fit: cover;
                                          border-radius: 50%; background: #e4e8ec; }
      .hx-face label { display: flex; gap: .3rem; align-items: center; cursor: pointer;
                       overflow-wrap: anywhere; }
      .hx-face .hx-name { font-weight: 600; }
      .hx-face .hx-detail { color: #55606c; font-size: 12px; text-align: center; }
      .hx-face input[type=text] { width: 100%; box-sizing: border-box; font: 13px system-ui; }
      .hx-face button { font: 12px system-ui; padding: .15rem .7rem; cursor: pointer; }`;

    function text(tag, value, className) {
      const node = document.createElement(tag);
      node.textContent = value;
      if (className) node.className = className;
      return node;
    }

    function picture(item, alt) {
      if (!item.picture) return text("div", "", "hx-blank");
      const img = document.createElement("img");
      img.src = item.picture;
      img.alt = alt;
      return img;
    }

    function person(model, item) {
      const node = document.createElement("div");
      node.className = "hx-face heimdex-person";
      node.dataset.id = item.id;
      const label = document.createElement("label");
      const tick = document.createElement("input");
      tick.type = "checkbox";
      tick.checked = model.selected.includes(item.id);
      node.classList.toggle("hx-selected", tick.checked);
      tick.addEventListener("change", () => {
        const others = model.selected.filter(id => id !== item.id);
        model.selected = tick.checked ? [...others, item.id] : others;
        node.classList.toggle("hx-selected", tick.checked);
      });
      label.append(tick, text("span", item.name, "hx-name"));
      node.append(picture(item, `face of ${item.name}`), label,
                  text("div", item.detail, "hx-detail"));
      return node;
    }

    function group(model, item) {
      const node = document.createElement("div");
      node.className = "hx-face heimdex-face-group";
      node.dataset.id = item.id;
      const who = document.createElement("input");
      who.type = "text";
      who.placeholder = "Name this face";
      const name = text("button", "Name");
      name.type = "button";
      name.addEventListener("click", () => {
        if (who.value.trim()) model.send_msg({action: "name", id: item.id, name: who.value});
      });
      node.append(picture(item, "an unnamed face"), text("div", item.detail, "hx-detail"),
                  who, name);
      return node;
    }

    export function render({ model, el }) {
      const style = document.createElement("style");
      style.textContent = css;
      const grid = document.createElement("div");
      grid.className = "hx-faces";
      const draw = () => grid.replaceChildren(
        ...model.items.map(item => (model.kind === "group" ? group : person)(model, item)));
      draw();
      model.on("items", draw);
      el.append(style, grid);
    }
    """

    def __init__(self, on_name: Callable[[str, str], None] | None = None, **params: Any) -> None:
        super().__init__(**params)
        self._on_name = on_name

    def _handle_msg(self, msg: Any) -> None:
        if self._on_name is None or not isinstance(msg, dict) or msg.get("action") != "name":
            return
        group_id, name = msg.get("id"), msg.get("name")
        if isinstance(group_id, str) and isinstance(name, str):
            self._on_name(group_id, name)


def person_cards(state: LibraryState) -> list[dict[str, Any]]:
    pictures = state.lib.person_faces()
    return [
        {
            "id": row["person_id"],
            "name": row["name"],
            "detail": f"{row['photos']} photo(s) · in {row['scenes']} scene(s)",
            "picture": data_uri(pictures[row["person_id"]], FACE_PX)
            if row["person_id"] in pictures
            else "",
        }
        for row in state.lib.people_frame().iter_rows(named=True)
    ]


def group_cards(state: LibraryState) -> list[dict[str, Any]]:
    return [
        {
            "id": group.group_id,
            "detail": f"{len(group.face_ids)} face(s) in {len(group.scene_ids)} scene(s)",
            "picture": data_uri(state.lib.path / group.crop, FACE_PX),
        }
        for group in state.lib.people.groups()[:MAX_GROUPS]
    ]


def enrol_form(state: LibraryState, message: pn.pane.HTML) -> pn.viewable.Viewable:
    name = pn.widgets.TextInput(name="Name", placeholder="Who is it?")
    photos = pn.widgets.FileInput(accept="image/*", multiple=True, name="photos")
    add = pn.widgets.Button(name="Add person", button_type="primary")

    def on_add(_: Any) -> None:
        who = (name.value or "").strip()
        if not who or not photos.value:
            message.object = "Give a name and at least one photo with exactly one face."
            return
        datas = photos.value if isinstance(photos.value, list) else [photos.value]
        names = photos.filename if isinstance(photos.filename, list) else [photos.filename]
        with tempfile.TemporaryDirectory() as tmp:
            paths = []
            for n, (data, filename) in enumerate(zip(datas, names, strict=True)):
                path = Path(tmp) / f"{n}_{Path(str(filename)).name}"
                path.write_bytes(data)
                paths.append(path)
            try:
                result = state.lib.add_person(name.value or "", paths)
                message.object = (
                    f"<b>{html.escape(result.name)}</b>: {result.photos} photo(s), found in "
                    f"{result.faces_found} face(s)."
                )
            except HeimdexError as exc:
                message.object = f"<b>Not added:</b> {html.escape(str(exc).split(': ', 1)[-1])}"
        state.refresh()

    add.on_click(on_add)
    return pn.Row(name, photos, add)


def people_view(state: LibraryState) -> pn.viewable.Viewable:
    message = pn.pane.HTML("", css_classes=["heimdex-people-message"])

    def say(text: str, error: bool = False) -> None:
        message.object = f"<b>{html.escape(text)}</b>" if error else html.escape(text)

    def on_name(group_id: str, name: str) -> None:
        try:
            result = state.lib.people.name_group(group_id, name)
            say(f"{result.name}: {result.faces_found} face(s).")
        except HeimdexError as exc:
            say(str(exc), error=True)
        state.refresh()

    people = FaceCards(kind="person", items=person_cards(state), sizing_mode="stretch_width")
    groups = FaceCards(
        kind="group", on_name=on_name, items=group_cards(state), sizing_mode="stretch_width"
    )
    nobody = pn.pane.Markdown("Nobody enrolled yet.", visible=not people.items)
    no_groups = pn.pane.Markdown("No faces waiting for a name.", visible=not groups.items)
    into = pn.widgets.Select(name="Merge the selected into", options=[], width=220)
    merge = pn.widgets.Button(name="Merge selected", disabled=True)
    remove = pn.widgets.Button(name="Remove selected", button_type="danger", disabled=True)

    def names_of(ids: list[str]) -> list[str]:
        by_id = {item["id"]: item["name"] for item in people.items}
        return [by_id[i] for i in ids if i in by_id]

    def on_select(_e: Any) -> None:
        chosen = names_of(people.selected)
        into.options = chosen
        merge.disabled = len(chosen) < 2
        remove.disabled = not chosen

    people.param.watch(on_select, "selected")

    def on_merge(_e: Any) -> None:
        try:
            result = state.lib.merge_people(names_of(people.selected), into.value)
            say(f"Merged into {result.name}: {result.photos} photo(s), "
                f"{result.faces_found} face(s).")  # fmt: skip
            people.selected = []
        except HeimdexError as exc:
            say(str(exc), error=True)
        state.refresh()

    def on_remove(_e: Any) -> None:
        chosen = names_of(people.selected)
        try:
            for name in chosen:
                state.lib.people.remove(name)
            say(f"Removed {', '.join(chosen)}.")
            people.selected = []
        except HeimdexError as exc:
            say(str(exc), error=True)
        state.refresh()

    merge.on_click(on_merge)
    remove.on_click(on_remove)

    def update(_e: Any) -> None:  # the same components get new data: no page rebuild
        people.items = person_cards(state)
        groups.items = group_cards(state)
        kept = {item["id"] for item in people.items}
        people.selected = [i for i in people.selected if i in kept]
        nobody.visible = not people.items
        no_groups.visible = not groups.items

    state.param.watch(update, "version")
    return pn.Column(
        pn.pane.Markdown(
            "### People\nEnrol someone from photos; every scene they appear in is "
            "found without re-ingesting."
        ),
        enrol_form(state, message),
        message,
        nobody,
        people,
        pn.Row(into, merge, remove),
        pn.pane.Markdown(
            "### Unnamed faces\nGive a face a name; give several the same name to "
            "make them one person."
        ),
        no_groups,
        groups,
        sizing_mode="stretch_width",
    )
