/**
 * Chinese first (zh-CN), English switchable; the choice is kept in localStorage.
 * All times are shown in Asia/Shanghai whatever the browser's own zone is.
 *
 * Words for "acknowledge" (issue #17 item 5), one meaning each across the console:
 *   响应  the deadline, as the district plan says it (1分钟响应): 响应剩余, 响应逾期, 超过响应时限
 *   确认  what the officer does to meet it: 确认接警 (the button), 待确认, 已确认, …于…确认
 * 应答 is not used. Nothing the server stores is shown raw: rule ids, outcomes, history actions,
 * sources, coverage reasons and who did it ('system' → 系统, usernames → display names) go through
 * name(), actor() and the tables here.
 */
const KEY = 'fw.lang';
const TZ = 'Asia/Shanghai';

const T = {
  app_title: ['Firewatch 值班控制台', 'Firewatch duty console'],
  district: ['渝中区消防物联网', 'Yuzhong fire IoT'],
  login: ['登录', 'Log in'],
  username: ['用户名', 'Username'],
  password: ['密码', 'Password'],
  or_token: ['或粘贴 API / 管理员令牌', 'or paste an API / admin token'],
  token: ['令牌', 'Token'],
  use_token: ['使用令牌登录', 'Log in with token'],
  login_failed: ['用户名或密码错误', 'Wrong username or password'],
  token_failed: ['令牌无效或已过期', 'Token not accepted or expired'],
  too_many: ['尝试次数过多，请稍后再试', 'Too many attempts, try again later'],
  logout: ['退出', 'Log out'],
  nav_board: ['告警看板', 'Alert board'],
  nav_overview: ['辖区总览', 'District'],
  nav_register: ['登记设备', 'Register device'],
  nav_import: ['批量导入', 'CSV import'],
  nav_coverage: ['覆盖率', 'Coverage'],
  large_type: ['大字', 'Large type'],
  sound_enable: ['开启声音', 'Enable sound'],
  sound_on: ['声音已开启', 'Sound on'],
  sound_off_hint: ['声音未开启：新火警不会鸣响', 'Sound is off: new hazards will not sound'],
  feed_down: ['实时连接中断，正在重连…（{0} 秒后重试）', 'Live feed down, reconnecting… (retry in {0} s)'],
  feed_connecting: ['正在连接实时告警…', 'Connecting to the live feed…'],
  feed_unauthorized: ['登录已失效，请重新登录', 'Session expired, please log in again'],
  role_admin: ['管理员', 'Administrator'],
  role_duty: ['值班人员', 'Duty officer'],
  role_operator: ['楼宇运营方', 'Building operator'],
  role_platform: ['市级平台（只读）', 'City platform (read-only)'],
  read_only: ['只读', 'read-only'],
  // board
  hazards: ['火警隐患', 'Hazards'],
  faults: ['设备故障', 'Faults'],
  maintenance: ['维护中', 'Maintenance'],
  none_hazards: ['当前无火警隐患', 'No active hazards'],
  none_faults: ['当前无设备故障', 'No active faults'],
  none_maintenance: ['无维护中告警', 'No maintenance alerts'],
  recently_closed: ['最近处置', 'Recently closed'],
  ack: ['确认接警', 'Acknowledge'],
  incident: ['警情', 'Incident'],
  incident_summary: ['同一建筑的 {0} 条火警隐患告警，按发生顺序', '{0} hazard alerts in one building, in the order raised'],
  incident_evidence: ['警情证据', 'Evidence'],
  incident_ack: ['确认警情', 'Acknowledge incident'],
  incident_close: ['处置警情', 'Close incident'],
  close: ['处置关闭', 'Close'],
  close_submit: ['提交关闭', 'Submit close'],
  cancel: ['取消', 'Cancel'],
  outcome: ['处置结果', 'Outcome'],
  note: ['处置说明', 'Note'],
  note_required: ['请填写处置说明', 'A note is required'],
  silence: ['静音', 'Silence'],
  silenced: ['已静音', 'Silenced'],
  ack_in: ['响应剩余', 'Ack in'],
  ack_overdue: ['响应逾期', 'Ack overdue'],
  close_in: ['处置剩余', 'Close in'],
  close_overdue: ['处置逾期', 'Close overdue'],
  overdue: ['逾期', 'overdue'],
  escalated: ['已升级 {0} 级', 'Escalated L{0}'],
  status_open: ['待确认', 'Open'],
  status_acknowledged: ['已确认', 'Acknowledged'],
  status_closed: ['已关闭', 'Closed'],
  cleared: ['条件已恢复', 'Condition cleared'],
  acked_by: ['{0} 于 {1} 确认', 'Acknowledged by {0} at {1}'],
  closed_by: ['{0} 于 {1} 关闭', 'Closed by {0} at {1}'],
  opened_at: ['发生', 'Opened'],
  count: ['次数', 'Count'],
  value: ['当前值', 'Value'],
  threshold: ['阈值', 'Threshold'],
  peak: ['峰值', 'Peak'],
  history: ['处置记录', 'History'],
  building: ['楼宇', 'Building'],
  device: ['设备', 'Device'],
  street: ['街道', 'Street'],
  uplink_backlog: ['{0} 条数据（告警、状态、读数）尚未被市级平台接收', '{0} items (alerts, status, readings) not yet accepted by the city platform'],
  uplink_error: ['最近错误', 'Last error'],
  // overview
  buildings_n: ['{0} 栋楼宇', '{0} buildings'],
  no_buildings: ['无楼宇', 'No buildings'],
  open_hazards: ['火警隐患', 'Hazards'],
  offline: ['离线', 'Offline'],
  online: ['在线', 'Online'],
  devices: ['设备', 'Devices'],
  // building
  details: ['基本信息', 'Details'],
  address: ['地址', 'Address'],
  type: ['类型', 'Type'],
  use: ['用途', 'Use'],
  height: ['高度', 'Height'],
  floors: ['层数', 'Floors'],
  area: ['面积', 'Area'],
  category: ['类别', 'Category'],
  contact: ['联系人', 'Contact'],
  phone: ['电话', 'Phone'],
  safety_code: ['消防安全码', 'Fire safety code'],
  safety_green: ['绿码：一切正常', 'Green: all normal'],
  safety_yellow: ['黄码：需关注', 'Yellow: attention'],
  safety_red: ['红码：存在未处置的消防险情', 'Red: an open fire-safety hazard'],
  safety_grey: ['灰码：未接入监测', 'Grey: not monitored'],
  public_page: ['公开页面', 'Public page'],
  safety_unavailable: ['安全码服务暂不可用', 'Safety code not available'],
  alert_history: ['告警记录', 'Alert history'],
  no_alerts: ['无告警记录', 'No alerts'],
  no_devices: ['尚无设备', 'No devices yet'],
  last_reading: ['最新读数', 'Last reading'],
  last_seen: ['最后通信', 'Last seen'],
  never: ['从未', 'never'],
  chart_none: ['暂无读数', 'No readings yet'],
  building_maintenance: ['楼宇维护模式', 'Building maintenance'],
  change_audit: ['变更审计（放宽规则、改分类、维护）', 'Change audit (loosened rules, reclassification, maintenance)'],
  audit_none: ['无变更记录', 'No recorded changes'],
  audit_by: ['操作人', 'By'],
  audit_action: ['变更', 'Change'],
  audit_reason: ['原因', 'Reason'],
  audit_changes: ['内容（原 → 新）', 'What (before → after)'],
  // device
  status: ['状态', 'Status'],
  accepted: ['已接收', 'Accepted'],
  rejected: ['已拒收', 'Rejected'],
  last_rejected: ['最近一次拒收', 'Last rejected message'],
  no_rejected: ['无拒收', 'None rejected'],
  raw_readings: ['最近原始读数', 'Recent raw readings'],
  events: ['设备事件', 'Device events'],
  time: ['时间', 'Time'],
  fields: ['数据', 'Fields'],
  maintenance_mode: ['维护模式', 'Maintenance mode'],
  maintenance_until: ['维护至', 'Until'],
  maintenance_reason: ['原因（必填）', 'Reason (required)'],
  maintenance_on: ['开启维护', 'Start maintenance'],
  maintenance_off: ['结束维护', 'End maintenance'],
  maintenance_active: ['维护中，至 {0}（{1}，{2}）', 'In maintenance until {0} ({1}, {2})'],
  maintenance_none: ['未在维护', 'Not in maintenance'],
  rotate: ['重置密码', 'Rotate password'],
  rotate_confirm: ['重置后旧密码立即失效，设备会被断开。继续？', 'The old password stops working at once and the device is disconnected. Continue?'],
  new_password: ['新密码（仅显示一次）', 'New password (shown once)'],
  copy: ['复制', 'Copy'],
  copied: ['已复制', 'Copied'],
  rules: ['告警规则', 'Alert rules'],
  location: ['安装位置', 'Location'],
  report_interval: ['上报间隔（秒）', 'Report interval (s)'],
  vendor: ['厂商', 'Vendor'],
  model: ['型号', 'Model'],
  kind: ['类型', 'Kind'],
  point: ['测点', 'Point'],
  // register
  register_title: ['登记设备', 'Register a device'],
  device_id: ['设备编号（可留空自动生成）', 'Device id (blank = generated)'],
  register_submit: ['登记', 'Register'],
  credentials_once: ['MQTT 凭据仅显示这一次，请立即写入设备', 'The MQTT credentials are shown this once: write them into the device now'],
  examples: ['mosquitto_pub 示例', 'mosquitto_pub examples'],
  mqtt_port_note: ['MQTT 端口 {0}（服务报告）', 'MQTT port {0} (reported by the service)'],
  commissioning: ['调试检查', 'Commissioning check'],
  waiting_first: ['等待第一条消息…', 'Waiting for the first message…'],
  first_arrived: ['已收到第一条消息（{0}）', 'First message arrived ({0})'],
  plausible: ['数值合理', 'Values plausible'],
  implausible: ['数值不合理', 'Values implausible'],
  would_alert: ['数值会触发告警：{0}', 'This value would raise an alert: {0}'],
  fix: ['如何处理', 'What to fix'],
  open_device: ['打开设备页', 'Open device page'],
  // import
  import_title: ['批量导入楼宇（CSV）', 'Import buildings (CSV)'],
  import_hint: ['区普查表格式：中文表头（序号、商市场名称、地址、联系人、电话、面积、所属街道…），是/否 取值。一行出错不影响其它行。', 'District survey format: Chinese headers (序号, 商市场名称, 地址, 联系人, 电话, 面积, 所属街道 …), 是/否 values. A bad row never stops the good rows.'],
  import_submit: ['上传导入', 'Upload and import'],
  import_choose: ['请选择 CSV 文件', 'Choose a CSV file'],
  created: ['新建', 'Created'],
  updated: ['更新', 'Updated'],
  failed: ['失败', 'Failed'],
  row: ['行号', 'Row'],
  errors: ['错误', 'Errors'],
  // coverage
  coverage_title: ['监测覆盖率', 'Monitoring coverage'],
  all_streets: ['全部街道', 'All streets'],
  reasons: ['纳管原因', 'Why required'],
  required: ['应装', 'Required'],
  missing: ['缺失', 'Missing'],
  export_csv: ['导出 CSV', 'Export CSV'],
  summary: ['汇总', 'Summary'],
  coverage_unavailable: ['覆盖率服务暂不可用', 'Coverage report not available'],
  not_found: ['未找到', 'Not found'],
  forbidden: ['无权操作', 'Not permitted'],
  error: ['出错', 'Error'],
  loading: ['加载中…', 'Loading…'],
  save: ['保存', 'Save'],
  yes: ['是', 'yes'],
  no: ['否', 'no'],
  back: ['返回', 'Back'],
  // issue #17 items 1–3
  att_pending: ['待确认 {0}', 'Unacknowledged {0}'],
  att_overdue: ['逾期 {0}', 'Overdue {0}'],
  att_hint: ['火警隐患：待确认 / 逾期（1分钟响应、3分钟处置）', 'Hazards: unacknowledged / overdue (respond in 1 min, dispose in 3)'],
  title_pending: ['({0}) 待确认 · Firewatch', '({0}) unacknowledged · Firewatch'],
  new_alarm: ['新警情：{0} {1}', 'New alarm: {0} {1}'],
  // issue #14: the centre's commands to a UITD
  uc_title: ['监控中心指令', "The centre's commands"],
  uc_clock_sync: ['校时', 'Clock sync'],
  uc_duty_check: ['查岗', 'Duty check'],
  uc_read_status: ['查询运行状态', 'Read running status'],
  uc_read_version: ['查询软件版本', 'Read software version'],
  uc_read_config: ['查询配置', 'Read configuration'],
  uc_read_time: ['查询时钟', 'Read clock'],
  uc_read_analog: ['读部件模拟量', "Read a component's analog values"],
  uc_system_type: ['系统类型', 'System type'],
  uc_system_address: ['系统地址', 'System address'],
  uc_zone: ['区号', 'Zone'],
  uc_position: ['位号', 'Position'],
  uc_analog_value: ['类型 {0}：{1}', 'type {0}: {1}'],
  uc_when: ['时间', 'When'],
  uc_command: ['指令', 'Command'],
  uc_outcome: ['结果', 'Outcome'],
  uc_answer: ['应答内容', 'Answer'],
  uc_by: ['发送人', 'Sent by'],
  uc_none: ['尚未发送指令', 'No command sent yet'],
  uc_waiting: ['已发送“{0}”，等待应答（最多发送 3 次）…', 'Sent "{0}", waiting for the answer (3 tries at most)…'],
  uc_out_confirmed: ['已确认', 'Confirmed'],
  uc_out_answered: ['已应答', 'Answered'],
  uc_out_denied: ['被否认', 'Denied'],
  uc_out_timeout: ['超时（{0} 次无应答）', 'Timed out ({0} tries, no answer)'],
  uc_out_not_connected: ['装置未连接', 'Not connected'],
  uc_out_unexpected: ['应答类型不符', 'Unexpected answer'],
  uitd_bit_normal: ['正常监视', 'normal monitoring'],
  uitd_bit_fireAlarm: ['火警', 'fire alarm'],
  uitd_bit_fault: ['故障', 'fault'],
  uitd_bit_mainPowerFault: ['主电故障', 'main power fault'],
  uitd_bit_backupPowerFault: ['备电故障', 'backup power fault'],
  uitd_bit_centreLinkFault: ['与监控中心通信信道故障', 'link to the centre faulty'],
  uitd_bit_monitoringLineFault: ['监测连接线路故障', 'monitoring line fault'],
  uitd_bits_none: ['测试状态（无位）', 'test mode (no bit)'],
  // issue #14: the monitoring centre's duty check (查岗)
  dc_pending: ['监控中心查岗（{0}）：请值班人员应答', 'Duty check from the monitoring centre ({0}): answer it'],
  dc_left: ['剩余 {0}', '{0} left'],
  dc_overdue: ['已超时', 'overdue'],
  dc_answer: ['应答', 'Answer'],
  dc_answered: ['查岗已应答：{0} {1}', 'Duty check answered: {0} at {1}'],
  dc_missed: ['查岗未在 {0} 前应答，已记录为漏岗', 'Duty check not answered by {0}: recorded as missed'],
  dc_error: ['应答未送达监控中心：{0}', 'The answer did not reach the centre: {0}'],
  new_badge: ['新警情', 'New'],
  dismiss: ['关闭', 'Dismiss'],
  card_location: ['位置', 'Location'],
  card_contact: ['联系', 'Contact'],
  card_no_location: ['未登记安装位置', 'no location registered'],
  paren: ['（{0}）', ' ({0})'],
  list_sep: ['，', ', '],
  v_now: ['当前 {0}', 'Now {0}'],
  v_threshold: ['阈值 {0}', 'threshold {0}'],
  v_setpoint: ['设定值 {0}', 'setpoint {0}'],
  v_lowest: ['最低 {0}', 'lowest {0}'],
  v_highest: ['最高 {0}', 'highest {0}'],
  v_pressure: ['水压 {0}', 'Pressure {0}'],
  v_pressure_fell: ['水压 {0} → {1}', 'Pressure {0} → {1}'],
  v_fell: ['骤降 {0}', 'fell by {0}'],
  v_fell_only: ['骤降 {0}', 'Fell by {0}'],
  v_lane: ['占用 {0}', 'Occupied for {0}'],
  v_lane_cleared: ['曾占用 {0}，已恢复畅通', 'Was occupied for {0}; clear again'],
  v_offline: ['已 {0} 无数据', 'No data for {0}'],
  v_last_heard: ['最后通信 {0}', 'last heard {0}'],
  v_device_alarm: ['设备报警', 'Device alarm'],
  v_supervisory: ['监管信号', 'Supervisory signal'],
  v_code: ['代码 {0}', 'code {0}'],
  v_reading: ['读数 {0}', 'Reading {0}'],
  u_s: ['{0} 秒', '{0} s'],
  u_min: ['{0} 分钟', '{0} min'],
  u_h_min: ['{0} 小时 {1} 分钟', '{0} h {1} min'],
  outcome_choose: ['请选择处置结果', 'Choose an outcome'],
  note_templates: ['常用说明', 'Common notes'],
  // issue #17 item 4
  nav_records: ['警情记录', 'Alert records'],
  rec_title: ['警情记录', 'Alert records'],
  rec_all: ['全部警情记录', 'All records'],
  rec_any: ['全部', 'Any'],
  rec_class: ['类别', 'Class'],
  rec_rule: ['规则', 'Rule'],
  rec_date_field: ['日期按', 'Dates by'],
  rec_by_opened: ['开始时间', 'Opened'],
  rec_by_closed: ['处置时间', 'Closed'],
  rec_from: ['开始日期', 'From'],
  rec_to: ['结束日期', 'To'],
  rec_building_ph: ['楼宇名称', 'Building name'],
  rec_person: ['人员', 'Person'],
  rec_person_ph: ['确认人或处置人（用户名）', 'Who acknowledged or closed (username)'],
  rec_status_active: ['未关闭', 'Not closed'],
  rec_search: ['查询', 'Search'],
  rec_reset: ['重置', 'Reset'],
  rec_opened: ['开始时间', 'Opened'],
  rec_severity: ['级别', 'Severity'],
  rec_acked: ['确认', 'Acknowledged'],
  rec_closed: ['处置', 'Closed'],
  rec_none: ['没有符合条件的记录', 'No records match'],
  rec_prev: ['上一页', 'Previous'],
  rec_next: ['下一页', 'Next'],
  rec_page: ['第 {0} 页', 'Page {0}'],
  rec_back: ['返回警情记录', 'Back to the records'],
  rec_on_board: ['到告警看板处理', 'Handle it on the board'],
  rec_action: ['动作', 'Action'],
  rec_by: ['操作人', 'By'],
  rec_detail: ['说明', 'Detail'],
  // issue #17 item 6
  cm_state_commissioning: ['安装调试中', 'Being commissioned'],
  cm_state_note: ['调试期间的告警只在本设备页显示，不送值班室、不升级、不计入消防安全码、不上报市级平台；{0} 起自动投入使用。', 'While commissioning, alerts show on this device page only: not on the duty board, never escalated, not in the safety code, not sent to the city platform. In service by itself from {0}.'],
  cm_state_in_service: ['已投入使用（{0}）', 'In service since {0}'],
  cm_put_in_service: ['投入使用', 'Put in service'],
  cm_put_in_service_hint: ['安装调试完成后点击：此后的告警送值班室并计入消防安全码', 'Press once the installation is done: from then on its alerts go to the duty room and the safety code'],
  cm_online_now: ['在线', 'Online'],
  cm_online_recent: ['已上线（最近一次 {0}）', 'Came online (last contact {0})'],
  cm_offline_since: ['离线（最近一次 {0}）', 'Offline (last contact {0})'],
  cm_waiting_connect: ['等待设备连接…', 'Waiting for the device to connect…'],
  cm_first_unknown: ['已收到消息', 'Messages arrived'],
  cm_rejected_history: ['曾拒收，之后已正常接收', 'Rejected earlier, accepted since'],
  cm_alert_badge: ['调试', 'Commissioning'],
  cm_alerts_note: ['含安装调试期间的告警（标“调试”）：它们只在此显示，不送值班室。', 'Includes alerts raised while commissioning (marked): they are shown here only, not sent to the duty room.'],
  // issue #17 item 5: who, history details, the rules table, coverage, readings in words
  actor_system: ['系统', 'System'],
  actor_admin_token: ['管理员令牌', 'Admin token'],
  actor_token: ['API 令牌 {0}', 'API token {0}'],
  h_still_active: ['仍未恢复：{0}', 'Still active: {0}'],
  h_auto_fault_cleared: ['条件已恢复，自动关闭', 'Condition cleared; closed automatically'],
  h_auto_commissioning_cleared: ['调试期间的告警，条件已恢复，自动关闭', 'Raised while commissioning; condition cleared, closed automatically'],
  h_auto_in_service: ['设备已投入使用，调试期间的告警归档为测试', 'Device in service: the commissioning alert is filed as a test'],
  h_closed: ['{0}：{1}', '{0}: {1}'],
  h_esc_ack: ['超过响应时限（{0}）未确认接警', 'Not acknowledged by the response deadline ({0})'],
  h_esc_close: ['超过处置时限（{0}）未处置关闭', 'Not closed by the disposal deadline ({0})'],
  h_maintenance: ['维护中，不通知（至 {0}）：{1}', 'In maintenance, nobody is paged (until {0}): {1}'],
  h_commissioning: ['设备调试中，不通知值班室', 'Device being commissioned: not sent to the duty room'],
  back_to_building: ['← 返回楼宇：{0}', '← Back to the building: {0}'],
  v_device_alarm_words: ['设备报警：{0}', 'Device alarm: {0}'],
  rl_rule: ['规则', 'Rule'],
  rl_limit: ['阈值', 'Threshold'],
  rl_for_clear: ['持续 / 恢复', 'For / clear'],
  rl_enabled: ['启用', 'On'],
  rl_source: ['来源', 'Source'],
  rl_standby: ['静水压（平时）', 'Static (standby)'],
  rl_flowing: ['动水压（用水时）', 'Dynamic (flowing)'],
  rl_not_checked: ['不检查', 'not checked'],
  rl_device_setting: ['设备设定值', 'Device setting'],
  rl_design: ['设计取值（无标准值）', 'Design choice (no standard value)'],
  rl_fall: ['{1}内下降超过 {0}', 'A fall of more than {0} within {1}'],
  rl_state_value: ['{0}：{1}', '{0}: {1}'],
  // 试算 / rule replay on the device page (issue #15 item 3)
  rp_title: ['试算（规则回放）', 'Rule replay'],
  rp_intro: ['改阈值之前先试一试：用已存的读数，按下面的规则回放这段时间，看会产生哪些告警，并与实际告警对照。试算不改变任何告警、规则或推送。', 'Try a threshold before changing it: the stored readings of the range are replayed with the rules below, and the alerts they would have raised are shown beside the alerts actually raised. A replay changes no alert, rule or feed.'],
  rp_from: ['开始', 'From'],
  rp_to: ['结束', 'To'],
  rp_rules: ['试算规则（可修改阈值与时长）', 'Rules to try (edit thresholds and times)'],
  rp_for: ['持续（秒）', 'For (s)'],
  rp_clear: ['恢复（秒）', 'Clear (s)'],
  rp_run: ['开始试算', 'Run replay'],
  rp_running: ['试算中…', 'Replaying…'],
  rp_summary: ['已回放 {0} 条读数（{1} 至 {2}）：试算告警 {3} 条，实际告警 {4} 条', 'Replayed {0} readings ({1} to {2}): {3} would-be alerts, {4} actual'],
  rp_incomplete: ['读数不完整：', 'Readings incomplete: '],
  rp_actual_truncated: ['实际告警过多，只列出前 1000 条', 'Too many actual alerts: the first 1000 are listed'],
  rp_would: ['试算告警', 'Would be'],
  rp_actual: ['实际告警', 'Actual'],
  rp_diff: ['对照', 'Compared'],
  rp_new: ['新增', 'New'],
  rp_gone: ['不再告警', 'Not raised'],
  rp_same: ['相同', 'Same'],
  rp_shifted: ['时间不同', 'Other times'],
  rp_none: ['这段时间试算与实际都没有告警', 'No alert in the range, would-be or actual'],
  rp_still: ['至结束仍未恢复', 'still active at the end'],
  rp_peak_count: ['峰值 {0} · {1} 次', 'peak {0} · {1} readings'],
  rp_realerts: ['重复提醒 {0} 次', 're-alerted {0} times'],
  cv_summary_line: ['应纳管楼宇 {0} 栋：设备全部在线 {1} 栋，部分在线 {2} 栋，均未在线 {3} 栋', 'Buildings to monitor: {0}; fully covered {1}, partly {2}, not at all {3}'],
  cv_buildings: ['应纳管楼宇', 'Must be monitored'],
  cv_covered: ['全部在线', 'Fully covered'],
  cv_partial: ['部分在线', 'Partly covered'],
  cv_uncovered: ['均未在线', 'Not covered'],
  cv_missing_by_kind: ['缺少设备的楼宇', 'Buildings missing a kind'],
  cv_kind_count: ['{0} {1} 栋', '{0}: {1}'],
  cv_total: ['合计', 'Total'],
  cv_none: ['无', 'none'],
  f_pressure: ['水压 {0} MPa', 'Pressure {0} MPa'],
  f_level: ['水位 {0} m', 'Level {0} m'],
  f_residual: ['剩余电流 {0} mA', 'Residual current {0} mA'],
  f_temperatures: ['温度 {0} °C', 'Temperatures {0} °C'],
  f_occupied: ['车道占用', 'Lane occupied'],
  f_clear: ['车道畅通', 'Lane clear'],
  f_flowing: ['用水中', 'Water flowing'],
  f_occupied_series: ['占用', 'Occupied'],
  audit_value_none: ['无', 'none'],
  enum_sep: ['、', ', '],
  // issue #17 item 8
  menu: ['菜单', 'Menu'],
  show_more: ['显示更多（还有 {0} 条）', 'Show more ({0} more)'],
  tab_open: ['未关闭告警', 'Open alerts'],
  tab_audit: ['变更审计', 'Change audit'],
  tab_charts: ['读数曲线', 'Charts'],
  building_sections: ['楼宇信息分页', 'Building sections'],
};

const NAMES = {
  outcome: {
    real_fire: ['真实火情', 'Real fire'],
    false_alarm: ['误报', 'False alarm'],
    test: ['测试', 'Test'],
    fault: ['设备故障', 'Device fault'],
    other: ['其他', 'Other'],
  },
  severity: { critical: ['紧急', 'Critical'], major: ['重要', 'Major'], minor: ['一般', 'Minor'], warning: ['提示', 'Warning'] },
  kind: {
    water_pressure: ['消防水压', 'Water pressure'],
    water_level: ['水箱/水池水位', 'Water level'],
    electrical_fire: ['电气火灾', 'Electrical fire'],
    fire_lane: ['消防车道', 'Fire lane'],
  },
  point: {
    hydrant_top: ['最不利点消火栓', 'Top-floor hydrant'],
    hydrant_outlet: ['消火栓栓口', 'Hydrant outlet'],
    sprinkler_end: ['喷淋末端', 'Sprinkler end'],
    pump_outlet: ['水泵出口', 'Pump outlet'],
    network: ['管网', 'Network'],
  },
  action: {
    raised: ['发生', 'raised'],
    recurred: ['复发', 'recurred'],
    cleared: ['恢复', 'cleared'],
    acknowledged: ['确认', 'acknowledged'],
    escalated: ['升级', 'escalated'],
    closed: ['关闭', 'closed'],
    maintenance: ['维护', 'maintenance'],
  },
  audit: {
    'device.rules_loosened': ['放宽告警规则', 'Rules loosened'],
    'building.thresholds_changed': ['修改楼宇分类', 'Building reclassified'],
    'maintenance.set': ['设置维护', 'Maintenance set'],
    'maintenance.ended': ['结束维护', 'Maintenance ended'],
    'device.deleted': ['删除设备', 'Device deleted'],
  },
  role: { admin: ['管理员', 'admin'], duty: ['值班人员', 'duty'], operator: ['楼宇运营方', 'operator'], platform: ['平台', 'platform'] },
  use: {
    complex: ['商业综合体', 'Complex'], market: ['商市场', 'Market'], hotel: ['酒店', 'Hotel'], office: ['办公', 'Office'],
    residence: ['住宅', 'Residence'], old_compound: ['老旧小区', 'Old compound'], key_site: ['重点场所', 'Key site'],
    hospital: ['医院', 'Hospital'], school: ['学校', 'School'], factory: ['工厂', 'Factory'], warehouse: ['仓库', 'Warehouse'], other: ['其他', 'Other'],
  },
  type: { residential: ['住宅', 'Residential'], public: ['公共建筑', 'Public'], industrial: ['工业', 'Industrial'] },
  rule: {
    pressure_low: ['水压过低', 'Pressure low'], pressure_high: ['水压过高', 'Pressure high'], pressure_drop: ['水压骤降', 'Pressure drop'],
    level_low: ['水位过低', 'Level low'], level_high: ['水位过高', 'Level high'], residual_current_high: ['剩余电流超限', 'Residual current high'],
    temperature_high: ['线缆温度超限', 'Cable temperature high'], lane_blocked: ['消防车道占用', 'Fire lane blocked'],
    device_offline: ['设备离线', 'Device offline'], sensor_fault: ['传感器故障', 'Sensor fault'], device_alarm: ['探测器报警', 'Detector alarm'],
    device_supervisory: ['监管报警', 'Supervisory signal'], service_outage: ['服务中断', 'Service outage'], alarm_clock_late: ['告警时钟超时', 'Alarm clock late'],
    probable_fire: ['疑似真实火灾', 'Probable fire'], lane_blocked_in_fire: ['火警期间消防车道占用', 'Fire lane blocked during a fire'],
  },
  reason: {
    bad_json: ['消息不是合法 JSON：检查设备的数据格式（必须是 JSON 对象或数组）。', 'The payload is not JSON: check the device sends a JSON object or array.'],
    schema: ['字段缺失或类型错误：检查字段名（如 pressureMpa、levelM、residualCurrentMa）、数值类型、kind 是否与登记一致、ts 是否为时间。', 'A field is missing or of the wrong type: check the field names (pressureMpa, levelM, residualCurrentMa…), number types, that kind matches the registration and ts is a time.'],
    unknown_kind: ['kind 不是四种类型之一：删除 kind 字段或改为登记的类型。', 'kind is not one of the four kinds: remove it or send the registered kind.'],
    out_of_range: ['数值超出传感器的物理范围：检查单位（MPa 而不是 kPa/bar，mA，°C）和量程设置。', 'A value no sensor can report: check the units (MPa, not kPa or bar; mA; °C) and the sensor span.'],
    future_ts: ['时间戳在未来：校准设备时钟（NTP）并使用带时区的 ISO 时间或毫秒时间戳。', 'The timestamp is in the future: set the device clock (NTP) and send ISO time with offset or epoch ms.'],
    too_large: ['消息过大：分批上报积压数据。', 'The payload is too large: send the backlog in smaller batches.'],
    rate_limited: ['上报过于频繁：降低上报频率。', 'Publishing too often: lower the report rate.'],
    unknown_device: ['设备已被删除：重新登记后再连接。', 'The device was deleted: register it again.'],
    topic_acl: ['发布到了不允许的主题：只能发布到 fire/v1/{设备编号}/telemetry 和 /event。', 'Published outside its own topics: use only fire/v1/{deviceId}/telemetry and /event.'],
  },
  // issue #17 item 6: a rejection's reason in a few words (the sentence is in `reason`)
  reason_short: {
    bad_json: ['不是 JSON', 'not JSON'],
    schema: ['格式错误', 'schema'],
    unknown_kind: ['未知类型', 'unknown kind'],
    out_of_range: ['超出范围', 'out of range'],
    future_ts: ['时间戳超前', 'future timestamp'],
    too_large: ['消息过大', 'too large'],
    rate_limited: ['上报过频', 'rate limited'],
    unknown_device: ['设备未登记', 'unknown device'],
    topic_acl: ['主题无权限', 'topic not allowed'],
  },
};
// issue #17 item 6: the history action and the audit action of commissioning
Object.assign(NAMES.action, { commissioning: ['调试中', 'commissioning'] });
Object.assign(NAMES.audit, { 'device.in_service': ['投入使用', 'Put in service'] });
// issue #17 item 5: coverage reasons, device alarm codes, the UITD kind, audited fields and rule parameters
Object.assign(NAMES.kind, { uitd: ['用户信息传输装置', 'UITD (user information transmission device)'] });
Object.assign(NAMES, {
  coverage_reason: {
    'complex>20000m2': ['建筑面积超过 2 万平方米的商业综合体', 'Commercial complex over 20,000 m²'],
    'market>10000m2': ['建筑面积超过 1 万平方米的商市场', 'Market over 10,000 m²'],
    high_rise: ['高层建筑', 'High-rise building'],
  },
  // the codes devices are known to send with their own alarm (the server's ALARM_CODE_WORDS, services/rules/messages.ts)
  alarm_code: {
    temperature_alarm: ['线缆温度报警', 'cable temperature alarm'],
    residual_current_alarm: ['剩余电流报警', 'residual current alarm'],
  },
  param: {
    rule: ['规则是否适用', 'applies'],
    threshold: ['阈值', 'threshold'],
    flowingThreshold: ['用水时阈值', 'flowing threshold'],
    enabled: ['启用', 'enabled'],
    forS: ['持续时间（秒）', 'for (s)'],
    clearS: ['恢复时间（秒）', 'clear (s)'],
    hysteresis: ['回差', 'hysteresis'],
    severity: ['级别', 'severity'],
    windowS: ['时间窗（秒）', 'window (s)'],
    dropMpa: ['骤降幅度（MPa）', 'drop (MPa)'],
    realertS: ['重复提醒间隔（秒）', 're-alert interval (s)'],
    stuckS: ['读数不变时长（秒）', 'unchanged for (s)'],
    stuckReadings: ['读数不变条数', 'unchanged readings'],
    rejectedRun: ['连续拒收条数', 'rejected in a row'],
    spanMin: ['量程下限', 'span minimum'],
    spanMax: ['量程上限', 'span maximum'],
  },
  audit_field: {
    type: ['楼宇类型', 'building type'],
    heightM: ['高度（m）', 'height (m)'],
    floors: ['层数', 'floors'],
    category: ['类别', 'category'],
    use: ['用途', 'use'],
    'deadline.ackS': ['响应时限（秒）', 'response deadline (s)'],
    'deadline.closeS': ['处置时限（秒）', 'disposal deadline (s)'],
    inServiceAt: ['投入使用时间', 'in service at'],
    'maintenance.until': ['维护至', 'maintenance until'],
  },
});

/**
 * Who did it, as people read it (issue #17 item 5): 系统 for the service itself, the admin token
 * and API tokens as such, a person by the display name the API sends with the username.
 */
export function actor(by, byName) {
  if (!by) return '';
  if (by === 'system') return t('actor_system');
  if (by === 'system:admin') return t('actor_admin_token');
  if (by.startsWith('token:')) return t('actor_token', by.slice('token:'.length));
  return byName || by;
}

/** "中文 / English" text the service wrote before it kept both languages apart: the half for the reader */
export function bilingualHalf(text) {
  const i = text.indexOf(' / ');
  if (i < 0) return text;
  return lang() === 'en' ? text.slice(i + 3) : text.slice(0, i);
}

// the notes the service wrote when it closed an alert itself, before `noteText` (stored alerts keep them)
const AUTO_NOTES = new Set([
  '设备已投入使用，调试期间的告警归档为测试 / device in service: the commissioning alert is filed as a test',
  '调试期间的告警，条件已恢复，自动关闭 / raised while commissioning; condition cleared, closed automatically',
  '条件已恢复，自动关闭 / condition cleared; closed automatically',
]);

/** An alert's close note: a person's as written, the service's own in the reader's language. */
export function alertNote(a) {
  if (a.noteText) return msg(a.noteText);
  if (a.note && AUTO_NOTES.has(a.note)) return bilingualHalf(a.note);
  return a.note ?? '';
}

export function lang() {
  return localStorage.getItem(KEY) === 'en' ? 'en' : 'zh';
}

export function setLang(l) {
  localStorage.setItem(KEY, l === 'en' ? 'en' : 'zh');
  document.documentElement.lang = l === 'en' ? 'en' : 'zh-CN';
}

const idx = () => (lang() === 'en' ? 1 : 0);

/** t('escalated', 1) → '已升级 1 级' */
export function t(key, ...args) {
  const pair = T[key];
  let text = pair ? pair[idx()] : key;
  args.forEach((a, i) => (text = text.replace(`{${i}}`, String(a))));
  return text;
}

/** name('rule', 'pressure_low') → '水压过低'; unknown values are shown as they are */
export function name(group, value) {
  if (value === null || value === undefined) return '';
  const pair = NAMES[group]?.[value];
  return pair ? pair[idx()] : String(value);
}

/** a {zh, en} message from the API in the current language */
export function msg(m) {
  if (!m) return '';
  if (typeof m === 'string') return m;
  return (lang() === 'en' ? m.en : m.zh) ?? m.zh ?? m.en ?? '';
}

const formatters = new Map();
function fmt(options) {
  const k = lang() + JSON.stringify(options);
  if (!formatters.has(k)) formatters.set(k, new Intl.DateTimeFormat(lang() === 'en' ? 'en-GB' : 'zh-CN', { timeZone: TZ, hour12: false, ...options }));
  return formatters.get(k);
}

/** '08:01:02' in Asia/Shanghai */
export function fmtTime(iso) {
  if (!iso) return '—';
  return fmt({ hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(new Date(iso));
}

/** '2026-11-29 08:01:02' in Asia/Shanghai */
export function fmtDateTime(iso) {
  if (!iso) return '—';
  const parts = Object.fromEntries(
    fmt({ year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
      .formatToParts(new Date(iso))
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`;
}

/** 75 000 ms → '1:15'; negative → '-1:15' */
export function fmtDuration(ms) {
  const neg = ms < 0;
  const total = Math.floor(Math.abs(ms) / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = String(total % 60).padStart(2, '0');
  const body = h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
  return neg ? `-${body}` : body;
}

/** A datetime-local value ('2026-11-29T18:00') read as Asia/Shanghai wall time → ISO with +08:00. */
export function shanghaiLocalToIso(local) {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(local)) return null;
  return `${local.slice(0, 16)}:00+08:00`;
}

/** An instant as a datetime-local value in Asia/Shanghai wall time. */
export function isoToShanghaiLocal(ms) {
  return fmtDateTime(new Date(ms).toISOString()).replace(' ', 'T').slice(0, 16);
}

export const STREETS = ['解放碑', '朝天门', '七星岗', '南纪门', '大溪沟', '上清寺', '两路口', '菜园坝', '化龙桥', '大坪', '石油路'];
export const OUTCOMES = ['false_alarm', 'real_fire', 'test', 'fault', 'other'];

// issue #17 items 1–3: note templates per outcome, [zh, en]; choosing one fills the close form's note
const NOTE_TEMPLATES = {
  real_fire: [
    ['已到场处置，火情已扑灭', 'On site and dealt with; the fire is out'],
    ['已报 119，消防救援队伍已到场处置', 'Called 119; the fire brigade attended'],
    ['已组织人员疏散，火情已控制', 'People evacuated; the fire is under control'],
  ],
  false_alarm: [
    ['现场核查无异常，疑似传感器误报', 'Checked on site: nothing wrong, probably a sensor false alarm'],
    ['电话联系楼宇核实，无火情、无险情', 'Confirmed with the building by phone: no fire, no hazard'],
    ['水压短时波动后已恢复正常，非真实险情', 'A short pressure swing, back to normal: not a real hazard'],
  ],
  test: [
    ['楼宇按计划测试（末端试水 / 水泵测试），已电话核实', 'A scheduled test by the building (end-of-line / pump), confirmed by phone'],
    ['维保单位检测，已核实', 'Maintenance contractor testing, confirmed'],
  ],
  fault: [
    ['设备故障，已通知维保单位检修', 'Device fault; the maintenance contractor is notified'],
    ['传感器或线路故障，已报修', 'Sensor or wiring fault; repair requested'],
  ],
  other: [
    ['已通知挪车，消防车道已恢复畅通', 'The vehicle was moved; the fire lane is clear'],
    ['已电话联系楼宇负责人，现场处理中', 'The building contact was called; being dealt with on site'],
    ['已移交街道消防工作站跟进', 'Handed over to the street fire station'],
  ],
};

/** the note templates for an outcome in the current language */
export function noteTemplates(outcome) {
  return (NOTE_TEMPLATES[outcome] ?? []).map((pair) => pair[idx()]);
}
