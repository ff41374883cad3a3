"""``shallowchrome serve``: the track server, with a production WSGI server (waitress) by default."""
from __future__ import annotations

import errno
import ipaddress
import logging
import socket
from urllib.parse import urlparse

import click

from shallowchrome.model.errors import InputError

log = logging.getLogger(__name__)

#: waitress's defaults (100 connections, 120 s idle timeout) let 100 idle clients lock everyone out.
CONNECTION_LIMIT, CHANNEL_TIMEOUT = 1000, 30


def server_options(f):
    """The listening options shared by ``serve`` and ``demo``."""
    for option in reversed([
        click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on."),
        click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
                     help="Port (0: any free port)."),
        click.option("--base-url", help="Public URL of this server (e.g. https://sc.example.org behind a reverse "
                                        "proxy): absolute links (hub URL, UCSC link, OpenAPI) use it, never the "
                                        "request's Host header."),
        click.option("--threads", default=8, show_default=True, type=click.IntRange(min=1),
                     help="Worker threads (waitress)."),
        click.option("--connection-limit", default=CONNECTION_LIMIT, show_default=True, type=click.IntRange(min=1),
                     help="Open connections accepted at once (waitress)."),
        click.option("--channel-timeout", default=CHANNEL_TIMEOUT, show_default=True, type=click.IntRange(min=1),
                     help="Seconds before an idle connection is closed (waitress)."),
        click.option("--access-log/--no-access-log", default=True, show_default=True,
                     help="Print one line per request on stderr."),
    ]):
        f = option(f)
    return f


def check_listen(host: str, port: int, debug: bool = False, base_url: str | None = None) -> None:
    """Refuse, with one line, what would fail or be unsafe once listening (before any work is done)."""
    if base_url is not None:
        parsed = urlparse(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise InputError(None, f"--base-url {base_url!r} is not an http(s) URL",
                             fix="give the public URL of the server, e.g. https://sc.example.org")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise InputError(None, f"--host {host!r} is not an address of this machine ({exc.strerror})",
                         fix="give an interface address such as 127.0.0.1 or 0.0.0.0") from None
    if debug and not all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos):
        raise InputError(None, f"--debug with --host {host}: the debugger would run code for anyone who reaches it",
                         fix="use --debug only with --host 127.0.0.1 (or drop --debug)")
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            what = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be used ({exc.strerror})"
            raise InputError(None, f"port {port} on {host} {what}",
                             fix="choose another --port (0 picks a free one), or stop the other server") from None


def public_url(host: str, port: int, base_url: str | None) -> str:
    if base_url:
        return base_url.rstrip("/")
    shown = socket.getfqdn() if host in ("0.0.0.0", "::", "") else host
    shown = f"[{shown}]" if ":" in shown else shown
    return f"http://{shown}:{port}"


@click.command(epilog="""\b
Examples:
  shallowchrome serve ws/
  shallowchrome serve ws/ --host 0.0.0.0 --port 8080 --base-url https://sc.example.org   # public, behind a proxy
""")
@click.argument("workspace", type=click.Path(exists=True, file_okay=False))
@server_options
@click.option("--debug", is_flag=True, help="Flask's development server with reloader and debugger "
                                            "(loopback only, never in production).")
def serve(workspace, host, port, base_url, threads, connection_limit, channel_timeout, access_log, debug):
    """Serve a workspace: track hub, igv.js browser page, gene pages and JSON API."""
    check_listen(host, port, debug, base_url)
    run_server(workspace, host, port, base_url, threads, connection_limit, channel_timeout, debug, access_log)


def run_server(workspace, host, port, base_url=None, threads=8, connection_limit=CONNECTION_LIMIT,
               channel_timeout=CHANNEL_TIMEOUT, debug=False, access_log=True) -> None:
    from shallowchrome.server.web.app import create_app

    if access_log:
        handler = logging.StreamHandler()  # stderr
        handler.setFormatter(logging.Formatter("%(message)s"))
        access = logging.getLogger("shallowchrome.access")
        access.handlers[:] = [handler]
        access.setLevel(logging.INFO)
        access.propagate = False

    app = create_app(workspace)
    if debug:
        app.config["PUBLIC_URL"] = public_url(host, port, base_url)
        _announce(app)
        app.run(host=host, port=port, debug=True)
        return
    from waitress import create_server

    server = create_server(app, host=host, port=port, threads=threads, ident="shallowchrome",
                           connection_limit=connection_limit, channel_timeout=channel_timeout)
    app.config["PUBLIC_URL"] = public_url(host, server.effective_port, base_url)
    _announce(app)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


def _announce(app) -> None:
    from shallowchrome.tracks.hub.trackdb import ucsc_url

    base = app.config["PUBLIC_URL"]
    hub = f"{base}/hub/hub.txt"
    state = app.extensions["shallowchrome"]
    click.echo(f"ShallowChrome serving {state.ws.root}")
    click.echo(f"  home:     {base}/")
    click.echo(f"  browser:  {base}/browser")
    click.echo(f"  hub:      {hub}")
    click.echo(f"  UCSC:     {ucsc_url(hub, state.genome)}")
    click.echo("            (UCSC fetches the hub from its own servers: use a publicly reachable host name)")
    click.echo("  Ctrl-C to stop", err=False)
