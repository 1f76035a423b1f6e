export default {
  displayName: 'iot-edge',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/libs/iot-edge',
};
