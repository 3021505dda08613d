"""Looking at other hosts: over ssh, across a fleet, and from Ansible.

`hosts.py` validates host strings; `probe.py` asks a host what it is and
builds its `Context`, so that a remote lookup is the ordinary lookup with
another runner; `commands.py` builds the constant command lines that ssh and
Ansible send; `ssh.py` is the OpenSSH runner; `fleet.py` looks at many hosts
at once; `ansible.py` is the glue behind the collection's plugins.
"""
