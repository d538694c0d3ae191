"""The rooms domain: rooms, participants, roles and grants, chat, Q&A, product cards, and the
``Store``/``Bus`` ports with memory (one node) and Redis (many nodes) implementations.

Start at :mod:`rooms.factory` (``open_backend``) and :mod:`rooms.service` (``RoomService``).
This package never imports aiortc, aiohttp or socketio (DESIGN.md §2).
"""
