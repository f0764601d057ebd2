"""What the app does when a worker process starts."""

from __future__ import annotations


async def test_startup_moves_the_long_lived_heap_out_of_the_collector(settings):
    """A full collection used to walk every route, model and schema while requests waited (the bench's p99)."""
    import gc

    from app.main import create_app

    gc.unfreeze()
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        assert gc.get_freeze_count() > 10_000
    gc.unfreeze()
