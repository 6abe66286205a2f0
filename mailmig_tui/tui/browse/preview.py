"""Reading one message: main headers, the text body and the attachments with their sizes.

The message is fetched with BODY.PEEK in a worker on the account's "preview" connection,
so reading never marks it \\Seen and never waits behind the message list. The text is shown
as plain text (never as markup); HTML-only mail is converted to text, nothing is fetched.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

from mailmig_tui.engine.wording import human_size
from mailmig_tui.tui.accounts.session import AccountSession
from mailmig_tui.tui.browse.mime_text import PreviewContent, render_message
from mailmig_tui.tui.common.app_messages import WorkFailed


class BodyScroll(VerticalScroll):
    """The scrolling body, with pager keys as well as the arrows."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "scroll_down", "Down", show=False, id="preview-down"),
        Binding("k", "scroll_up", "Up", show=False, id="preview-up"),
        Binding("space", "page_down", "Page down", show=False, id="preview-page-down"),
        Binding("b", "page_up", "Page up", show=False, id="preview-page-up"),
        Binding("g", "scroll_home", "Top", show=False, id="preview-top"),
        Binding("G", "scroll_end", "End", show=False, id="preview-end"),
    ]


class PreviewScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,backspace,q", "close", "Back", id="close-preview"),
    ]

    class Loaded(Message, bubble=False):
        """The fetch worker's result: None when the message is no longer on the server."""

        def __init__(self, content: PreviewContent | None) -> None:
            super().__init__()
            self.content = content

    def __init__(self, session: AccountSession, folder: str, uid: int) -> None:
        super().__init__()
        self.session = session
        self.folder = folder
        self.uid = uid
        self.content: PreviewContent | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="preview-headers")
        with BodyScroll(id="preview-scroll"):
            yield Static(id="preview-body")
        yield Footer()

    def on_mount(self) -> None:
        where = f"{self.session.role}: {self.folder}, UID {self.uid}"
        self.query_one("#preview-headers", Static).update(Text(f"Loading {where} …"))
        self.query_one(BodyScroll).focus()
        self._fetch()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _fetch(self) -> None:
        with self.session.connection("preview").use() as store:
            messages = list(store.fetch(self.folder, [self.uid]))
        self.post_message(self.Loaded(render_message(messages[0].data) if messages else None))

    def on_preview_screen_loaded(self, message: PreviewScreen.Loaded) -> None:
        self.content = message.content
        headers = self.query_one("#preview-headers", Static)
        body = self.query_one("#preview-body", Static)
        if message.content is None:
            headers.update(Text(f"UID {self.uid} is no longer in {self.folder}."))
            body.update(Text("Press Backspace and r to reload the folder."))
            return
        headers.update(header_text(message.content))
        body.update(Text(message.content.body))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.query_one("#preview-headers", Static).update(
                Text(f"Could not load UID {self.uid} of {self.folder}.")
            )
            self.post_message(WorkFailed(event.worker.error, self.session.role))

    def action_close(self) -> None:
        self.dismiss()


def header_text(content: PreviewContent) -> Text:
    """Headers, notes and attachments above the body, as plain styled text."""
    text = Text()
    for name, value in content.headers:
        text.append(f"{name + ':':<9}", style="bold")
        text.append(value + "\n")
    if not content.headers:
        text.append("(no headers)\n", style="italic")
    for note in content.notes:
        text.append(f"Note:    {note}\n", style="italic")
    if content.attachments:
        text.append(f"{'Files:':<9}", style="bold")
        items = [f"{a.name} ({a.content_type}, {human_size(a.size)})" for a in content.attachments]
        text.append("\n         ".join(items) + "\n")
    if content.body_type == "text/html":
        text.append("(HTML shown as text)\n", style="italic")
    text.rstrip()
    return text
