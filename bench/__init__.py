"""The benchmark harness of 微邻里: seed a database at a chosen scale, serve the app with uvicorn, drive it with
wrk, and write bench/results/<date>-<db>.md. See `python -m bench --help` and bench/__main__.py."""
