/** Device topic names (the MQTT contract: docs/mqtt-contract.md). Shared by the broker, API and simulators. */
export const TOPIC_ROOT = 'fire/v1';

export const telemetryTopicFor = (deviceId: string) => `${TOPIC_ROOT}/${deviceId}/telemetry`;
export const eventTopicFor = (deviceId: string) => `${TOPIC_ROOT}/${deviceId}/event`;
export const configTopicFor = (deviceId: string) => `${TOPIC_ROOT}/${deviceId}/config`;
/** presence: a device's last will ("offline") or its own online notice */
export const statusTopicFor = (deviceId: string) => `${TOPIC_ROOT}/${deviceId}/status`;
