<?php

use Illuminate\Database\Migrations\Migration;
use Illuminate\Database\Schema\Blueprint;
use Illuminate\Support\Facades\Schema;

// Evolution CMS 3's permissions table, with its columns and types
// (install/stubs/migrations/2018_06_29_182342_create_permissions_table.php).
return new class extends Migration
{
    public function up(): void
    {
        Schema::create('permissions', function (Blueprint $table) {
            $table->integer('id', true);
            $table->string('name');
            $table->string('key');
            $table->string('lang_key')->default('');
            $table->integer('group_id')->nullable();
            $table->integer('disabled')->nullable();
            $table->timestamps();
        });
    }

    public function down(): void
    {
        Schema::drop('permissions');
    }
};
