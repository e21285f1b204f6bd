"""Live remote coaching: a mentor joins a trainee's console over WebRTC.

Modules (the wire format is in ``PROTOCOL.md``):

* pure rules, no I/O: :mod:`.tokens` (signed invitations), :mod:`.messages` (client
  messages: dataclasses, validation, parse/serialise), :mod:`.control` (the control
  lock), :mod:`.room` (peers, shared state, rate limits), :mod:`.audit` (append-only
  log), :mod:`.turn` (coturn credentials);
* wiring: :mod:`.server` (the hub: aiohttp + aiortc, ``make_app(HubConfig(...))``; its
  parts are the private ``_hub_*.py`` modules),
  :mod:`.media` (the hub's per-room console source), :mod:`.client` (a Python client),
  :mod:`.trainee` (``TraineeLink``: the trainee's kernel as a peer),
  :mod:`.widget` (``MentorPanel``: "Call a mentor" for the consoles),
  ``static/`` (the mentor page and the call page served by the hub);
* :mod:`.console_link`: the ``ConsoleLike`` protocol the consoles implement.

Nothing is imported here, so ``import simulator.mentoring`` stays cheap.
"""
