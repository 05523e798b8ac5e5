// The tests run Express 4 through the npm alias `express4`; its API is typed like Express's.
declare module 'express4' {
  import express from 'express';
  export default express;
}
