//! tabops-emulator
