"""Kombu's filesystem transport, made safe for a worker polling the same folder.

The stock transport opens the message file under its final name and then writes it, so a
worker polling the folder can read a half-written file and die with a JSONDecodeError
(kombu issue 1551). We write to a temporary name the worker ignores and ``os.replace()`` it
into place, which is atomic on POSIX. Used only for the embedded default of ``make run``;
every real deployment uses Redis.
"""

import os
import uuid
from time import monotonic

from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        temp = os.path.join(self.data_folder_out, f".{name}.tmp")
        with open(temp, "wb") as f:
            f.write(str_to_bytes(dumps(payload)))
        os.replace(temp, final)


class Transport(filesystem.Transport):
    Channel = Channel
