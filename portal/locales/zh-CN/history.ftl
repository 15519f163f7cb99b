# 对象的变更历史（租户控制台与运营控制台共用）。

hist-link = 历史
hist-title = { $object } 的变更历史
hist-intro = 此对象的每次变更，最新的在前：时间、操作者，以及每个字段的变更前 → 变更后。“恢复”会把这次变更替换掉的值放回去；恢复本身也会被记录，并可用同样的方式撤销。
hist-caption = 变更
hist-col-when = 时间
hist-col-who = 操作者
hist-col-action = 变更
hist-col-changes = 字段（变更前 → 变更后）
hist-no-fields = 未记录字段
hist-restore = 恢复为变更前的值
hist-restore-confirm = 要放回这次变更替换掉的值吗？
hist-older = 更早的变更
