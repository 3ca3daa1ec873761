"""The web portal (`reporting serve`, issue 16): packs and their builds, runs and deliveries, jobs, the
approval queue and a read-only JSON API, behind local accounts with roles and organisation scoping."""
