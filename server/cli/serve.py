"""``shallowchrome serve``: the track server, with a production WSGI server (waitress) by default."""
from __future__ import annotations

import logging

import click

log = logging.getLogger(__name__)


@click.command(epilog="""\b
Examples:
  shallowchrome serve ws/
  shallowchrome serve ws/ --host 0.0.0.0 --port 8080    # reachable from other machines (and UCSC if public)
""")
@click.argument("workspace", type=click.Path(exists=True, file_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port (0: any free port).")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(min=1), help="Worker threads (waitress).")
@click.option("--debug", is_flag=True, help="Flask's development server with reloader and debugger (never in production).")
def serve(workspace, host, port, threads, debug):
    """Serve a workspace: track hub, igv.js browser page, gene pages and JSON API."""
    from shallowchrome.server.web.app import create_app

    app = create_app(workspace)
    if debug:
        _announce(host, port, app)
        app.run(host=host, port=port, debug=True)
        return
    from waitress import create_server

    server = create_server(app, host=host, port=port, threads=threads, ident="shallowchrome")
    _announce(host, server.effective_port, app)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


def _announce(host: str, port: int, app) -> None:
    from shallowchrome.tracks.hub.trackdb import ucsc_url

    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    base = f"http://{shown}:{port}"
    hub = f"{base}/hub/hub.txt"
    genome = app.extensions["shallowchrome"].genome
    click.echo(f"ShallowChrome serving {app.extensions['shallowchrome'].ws.root}")
    click.echo(f"  home:     {base}/")
    click.echo(f"  browser:  {base}/browser")
    click.echo(f"  hub:      {hub}")
    click.echo(f"  UCSC:     {ucsc_url(hub, genome)}")
    click.echo("            (UCSC fetches the hub from its own servers: use a publicly reachable host name)")
    click.echo("  Ctrl-C to stop", err=False)
