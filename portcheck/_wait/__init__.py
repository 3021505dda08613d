"""Waiting until a port is as wanted, within one bound.

`sockets.py` polls this machine's socket table (`wait_until_free`,
`wait_until_listening`: the TIME_WAIT rule and the owners seen);
`connect.py` waits until a TCP connection to every target succeeds
(`wait_until_open`, here or on another host). Each `timeout` bounds the whole
wait.
"""
