<?php

use Illuminate\Database\Migrations\Migration;
use Illuminate\Database\Schema\Blueprint;
use Illuminate\Support\Facades\Schema;

// Evolution CMS's permission tables (install/stubs/migrations/2018_06_29_*),
// so the package's permission migration has something to write to.
return new class extends Migration
{
    public function up(): void
    {
        Schema::create('permissions_groups', function (Blueprint $table) {
            $table->increments('id');
            $table->string('name');
            $table->string('lang_key')->default('');
            $table->timestamps();
        });
        Schema::create('permissions', function (Blueprint $table) {
            $table->increments('id');
            $table->string('name');
            $table->string('key');
            $table->string('lang_key')->default('');
            $table->integer('group_id')->nullable();
            $table->integer('disabled')->nullable();
            $table->timestamps();
        });
        Schema::create('role_permissions', function (Blueprint $table) {
            $table->increments('id');
            $table->string('permission');
            $table->integer('role_id');
            $table->timestamps();
        });
    }

    public function down(): void
    {
        Schema::dropIfExists('role_permissions');
        Schema::dropIfExists('permissions');
        Schema::dropIfExists('permissions_groups');
    }
};
