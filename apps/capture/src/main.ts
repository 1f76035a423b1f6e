import 'reflect-metadata';
import { Module, Injectable } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
@Injectable() class Foo { hi() { return 'hi'; } }
@Injectable() class Bar { constructor(readonly foo: Foo) {} }
@Module({ providers: [Foo, Bar] }) class AppModule {}
async function main() { const app = await NestFactory.createApplicationContext(AppModule, { logger: false }); console.log(app.get(Bar).foo.hi()); await app.close(); }
main();
