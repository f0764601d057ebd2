"""What the app does when a worker process starts."""

from __future__ import annotations

import gc


async def test_startup_moves_the_long_lived_heap_out_of_the_collector(settings):
    """A full collection used to walk every route, model and schema while requests waited (the bench's p99), and
    young collections ran every 700 allocations."""
    from app.main import create_app

    before = gc.get_threshold()
    gc.unfreeze()
    try:
        application = create_app(settings)
        async with application.router.lifespan_context(application):
            assert gc.get_freeze_count() > 10_000
            assert gc.get_threshold()[0] >= 10_000
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
