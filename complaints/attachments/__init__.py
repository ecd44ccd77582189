"""Attachments of complaints (R61-R64): the complainant's letter, photos of the defect, the
recording of the call or of the return visit. What may be uploaded, how it is stored and served
are crm.attachments'; here the complaint's own rule of who works it (R15: its owner, the
branch manager, group marketing) decides who may add and delete, a closed complaint takes no
change, and each upload and delete is a step of the complaint's timeline (R19)."""
