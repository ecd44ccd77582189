"""Attachments of the archive's records (R61-R64; seed 003, 收集记录: «对客户沟通、市场调研等过程中的
重要信息进行录音、录像或文字记录,并妥善保存»): documents, photos, recordings and videos on needs,
visits and complaints.

The shared part lives here, in crm, because every app that has records to attach to sits above
it: clients (needs, visits) and complaints. Nothing here knows those apps.

* ``files``: what may be uploaded (size, extension, the content sniffed from the bytes, the name
  shown) and where it is kept (Django's storage API, the storage named in settings, so that a
  shared object store can hold the files; no local path is ever opened).
* ``models``: ``AttachmentBase``, the abstract model each app makes concrete with a foreign key
  to its record (``NeedAttachment`` in clients, ``ComplaintAttachment`` in complaints), so that
  ``restrict()`` scopes attachments by the same paths as their record.
* ``services``: ``attachment_add`` (the file is stored, then the row saved; if the row cannot
  be saved the stored file is removed again) and ``attachment_delete`` (soft: the row leaves
  the lists, who deleted it, when and why stay in its history, the file is kept).
* ``pages`` and ``api``: the upload, download and delete of the pages and of the API, answered
  the same way for every record; downloads are only ever served as attachments.
"""
