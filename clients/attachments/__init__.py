"""Attachments of needs and visits (R61-R64; seed 003, 收集记录: «对客户沟通、市场调研等过程中的重要信息
进行录音、录像或文字记录,并妥善保存»): the concrete models, their page routes (upload on the need's
and the visit's page, download, delete) and their API resources. What may be uploaded, how it is
stored and served, and who may, are crm.attachments' (shared with complaints); this package only
says which record an attachment belongs to and logs another branch's reads (R4)."""
