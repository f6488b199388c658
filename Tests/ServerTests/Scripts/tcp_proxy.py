#!/usr/bin/env python3
"""A TCP proxy on 127.0.0.1 that a test can cut: FaultTests puts it between `atrium serve` and moto's S3 server (moto
keeps its objects in memory, so it cannot itself be restarted).

Usage: tcp_proxy.py LISTEN_PORT TARGET_PORT CONTROL_FILE

When CONTROL_FILE says "cut" (it is read every 100 ms), every open connection is closed and the listening socket too,
so new connections are refused (as when the store's host is down); when it says anything else, the proxy listens on
the same port again. (A file rather than signals: a test's child processes may inherit signals blocked.) Prints
"listening", "cut" and "open" as it goes.
"""
import asyncio
import sys

listen_port, target_port, control = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
writers = set()


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def handle(client_reader, client_writer):
    try:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", target_port)
    except OSError:
        client_writer.close()
        return
    writers.update({client_writer, upstream_writer})
    await asyncio.gather(pipe(client_reader, upstream_writer), pipe(upstream_reader, client_writer))
    writers.difference_update({client_writer, upstream_writer})


async def main():
    state = {"server": await asyncio.start_server(handle, "127.0.0.1", listen_port, reuse_address=True)}
    print("listening", flush=True)

    def cut():
        if state["server"] is not None:
            state["server"].close()
            state["server"] = None
        for writer in list(writers):
            writer.transport.abort()
        writers.clear()
        print("cut", flush=True)

    async def reopen():
        if state["server"] is None:
            state["server"] = await asyncio.start_server(handle, "127.0.0.1", listen_port, reuse_address=True)
        print("open", flush=True)

    while True:
        await asyncio.sleep(0.1)
        try:
            wanted = open(control).read().strip()
        except OSError:
            wanted = "open"
        if wanted == "cut" and state["server"] is not None:
            cut()
        elif wanted != "cut" and state["server"] is None:
            await reopen()


asyncio.run(main())
