"""`m`: which target folder each source folder goes to, and why; editable.

The map is computed by the engine's own mapping (`engine.folder_map.compute_map`) in a thread
worker over the panes' browsing connections. Enter picks a target for the folder under the
cursor (an existing one, or a new name); `a` gives it back to the automatic rules. Every
edit is saved for this pair of accounts at once and the map recomputed, since a folder's
children follow it; every later copy of the pair plans with the saved map (the engine's
`CopyService` reads it), so Escape only goes back.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

from mailmig_tui.engine.folder_map import MapResult, compute_map
from mailmig_tui.engine.saved_maps import load_overrides, save_overrides
from mailmig_tui.tui.accounts.session import AccountSession
from mailmig_tui.tui.common.app_messages import WorkFailed
from mailmig_tui.tui.common.format import plural
from mailmig_tui.tui.copy.map_list import MapList

LEGEND = "! conflict (pick a target)  + merged on purpose  (new) created by the copy"


class FolderMapScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter,e",
            "edit",
            "Choose target",
            key_display="enter",
            id="map-edit",
            tooltip="Choose the target folder of the folder under the cursor",
        ),
        Binding(
            "a,delete",
            "automatic",
            "Automatic",
            key_display="a",
            id="map-automatic",
            tooltip="Give the folder back to the automatic rules",
        ),
        Binding(
            "escape,m",
            "close",
            "Back",
            key_display="esc",
            id="map-close",
            tooltip="Back to the panes (the map is saved already)",
        ),
    ]

    class MapComputed(Message, bubble=False):
        """The worker's map, and the file the edited map was just saved to (if it was)."""

        def __init__(self, result: MapResult, saved: Path | None = None) -> None:
            super().__init__()
            self.result = result
            self.saved = saved

    def __init__(self, source: AccountSession, target: AccountSession) -> None:
        super().__init__()
        self.source, self.target = source, target
        self.overrides: dict[str, str] | None = None
        """The manual entries as saved; None until the first map has read them."""
        self.result: MapResult | None = None
        self.saved_to: Path | None = None

    def compose(self) -> ComposeResult:
        title = f"Folder map: {self.source.label} → {self.target.label}"
        yield Static(Text(title), classes="screen-title")
        yield Static("computing the folder map…", id="map-status")
        yield Static(classes="pane-columns", id="map-columns")
        yield MapList(id="map")
        yield Static(
            Text(LEGEND),
            classes="dim",
            id="map-legend",
        )
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one(MapList).focus()
        self._compute(self.overrides, save=False)

    def on_resize(self) -> None:
        self.call_after_refresh(self._update_columns)

    def _update_columns(self) -> None:
        listing = self.query_one(MapList)
        self.query_one("#map-columns", Static).update(listing.header(listing.list_width))

    # -- worker ----------------------------------------------------------------------------

    @work(thread=True, group="map", exclusive=True, exit_on_error=False)
    def _compute(self, overrides: dict[str, str] | None, save: bool) -> None:
        source, target = self.source.spec, self.target.spec
        if overrides is None:
            overrides = load_overrides(source, target)
        saved = save_overrides(source, target, overrides) if save else None
        with (
            self.source.connection("browse").use() as source_store,
            self.target.connection("browse").use() as target_store,
        ):
            result = compute_map(source_store, target_store, overrides)
        self.post_message(self.MapComputed(result, saved))

    def on_folder_map_screen_map_computed(self, message: FolderMapScreen.MapComputed) -> None:
        result = message.result
        self.result = result
        self.saved_to = message.saved or self.saved_to
        if self.overrides is None:
            self.overrides = dict(result.overrides)
        self.query_one(MapList).set_rows(result.rows)
        self._update_columns()
        status = self.query_one("#map-status", Static)
        status.set_class(bool(result.error or result.conflicts), "-problem")
        if result.error:
            status.update(Text(f"No map: {result.error}"))
        elif result.conflicts:
            status.update(
                Text(f"Conflict: {result.conflict_text}; Enter on one of them chooses its target")
            )
        else:
            manual = sum(r.reason == "manual" for r in result.rows)
            new = sum(not r.target_exists for r in result.rows)
            merged = sum(r.merge for r in result.rows)
            parts = [plural(len(result.rows), "folder"), f"{manual} manual"]
            parts.append(f"{new} new on the target")
            if merged:
                parts.append(f"{merged} merged")
            status.update(Text(" · ".join(parts)))
        if result.dropped:
            self.notify(
                f"Saved entries for folders no longer on the source left out: "
                f"{', '.join(result.dropped)}",
                severity="warning",
                markup=False,
            )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        error = event.worker.error
        if event.state is WorkerState.ERROR and error is not None:
            self.query_one("#map-status", Static).update("the folder map could not be made")
            self.post_message(WorkFailed(error, "folder map"))

    # -- actions ---------------------------------------------------------------------------

    def action_edit(self) -> None:
        from mailmig_tui.tui.copy.target_picker import TargetPicker

        row = self.query_one(MapList).current
        if row is None or self.result is None:
            return

        def chosen(name: str | None) -> None:
            if name is not None:
                self._set(row.source, name)

        self.app.push_screen(
            TargetPicker(row.source, row.target, self.result.target_folders), chosen
        )

    def action_automatic(self) -> None:
        row = self.query_one(MapList).current
        if row is not None:
            self._set(row.source, "")

    def _set(self, source: str, target: str) -> None:
        """Make `target` the manual target of `source` ("" = automatic), save, recompute."""
        overrides = dict(self.overrides or {})
        if target:
            overrides[source] = target
        elif source in overrides:
            del overrides[source]
        else:
            return
        self.overrides = overrides
        self._compute(dict(overrides), save=True)

    def action_close(self) -> None:
        self.dismiss()
