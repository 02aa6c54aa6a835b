"""Entry point of the bulk parsing child process (`python -m shopsync.bulk_parse_child RESOURCE
BATCH_SIZE START_LINE`): Django is set up before anything imports the models; the work itself is
`shopsync.services.sync.parse_process.child_main`."""

from __future__ import annotations

import gc
import os
import sys

import django

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
    django.setup()

    from shopsync.resources import Resource
    from shopsync.services.sync.parse_process import child_main

    # The reader holds a batch and a window of recent parents: hundreds of thousands of small,
    # acyclic objects that reference counting frees. The default collector would rescan them every
    # 700 allocations (measured: a third of the parse time); keep the imported modules out of every
    # pass and collect far less often.
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    child_main(Resource(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
