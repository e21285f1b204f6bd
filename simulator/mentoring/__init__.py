"""Live remote coaching: a mentor joins a trainee's console over WebRTC.

Modules (the wire format is in ``PROTOCOL.md``):

* pure rules, no I/O: :mod:`.tokens` (signed invitations), :mod:`.messages` (client
  messages: dataclasses, validation, parse/serialise), :mod:`.control` (the control
  lock), :mod:`.room` (peers, shared state, rate limits), :mod:`.room_request` (the body of
  ``POST /api/rooms``), :mod:`.audit_chain` (the audit's hash chain and its check),
  :mod:`.url_prefix` (the prefix behind JupyterHub's proxy), :mod:`.turn` (coturn
  credentials);
* :mod:`.audit` (the append-only, chained, rotated log files), :mod:`.room_store` (rooms
  kept across restarts, SQLAlchemy);
* wiring: :mod:`.server` (the hub: aiohttp + aiortc, ``make_app(HubConfig(...))``; its
  parts are the private ``_hub_*.py`` modules),
  :mod:`.media` (the hub's per-room console source), :mod:`.client` (a Python client),
  :mod:`.trainee` (``TraineeLink``: the trainee's kernel as a peer),
  :mod:`.widget` (``MentorPanel``: "Call a mentor" for the consoles),
  ``static/`` (the mentor page and the call page served by the hub);
* :mod:`.console_link`: the ``ConsoleLike`` protocol the consoles implement.

Nothing is imported here, so ``import simulator.mentoring`` stays cheap.
"""
