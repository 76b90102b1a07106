"""共通機能 宛名管理 (住登外者宛名番号管理 031, 団体内統合宛名 032): the person index modules share.

住登外者 get 宛名番号 from the tenant's one space (shared with residents), 名寄せ links records of
one person without renumbering, and 団体内統合宛名番号 tie a person to the 中間サーバー. Other
modules ask through the published query interface (HTTP, linkage-client tokens). The rooms:
`domain` (items and checks, data-described), `matching` (名寄せ rules), `store`, `service`,
`api`, `linkage` (residents through the consumer kit), `cli`.
"""
