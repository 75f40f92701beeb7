"""`panel serve apps/heimdex_app.py --plugins heimdex_lab.ui.plugin`: the web app without the
HTTP API (uploads over the websocket, the player's media from the plugin's route).

The app itself is `heimdex_lab.ui.app`; `heimdex serve` mounts it beside the API instead. The
library and user come from ``HEIMDEX_LIBRARY`` / ``HEIMDEX_USER`` like the CLI's defaults. With
an auth provider given to `panel serve` (``--basic-auth``, ``--oauth-provider``), each session
acts as its signed-in user; without one, as ``HEIMDEX_USER``.
"""

from heimdex_lab.config import Settings
from heimdex_lab.ui.app import page
from heimdex_lab.ui.plugin import panel_auth

page(Settings(), no_auth=not panel_auth(), api=False).servable(title="Heimdex Lab")
