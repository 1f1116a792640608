// Vite's types for `import './styles.css'` and import.meta.
/// <reference types="vite/client" />
