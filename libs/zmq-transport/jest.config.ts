export default {
  displayName: 'zmq-transport',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/libs/zmq-transport',
};
